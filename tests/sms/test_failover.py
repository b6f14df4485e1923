"""A re-send always tries another provider first: the router's ``last``, and the OTP a
person asks for again after the first did not arrive."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.config import SmsRouteSettings
from gateway.sms.router import Router
from gateway.storage.ledger import Message

from .support import API_KEY, PHONE, run_worker

ROUTER = Router(["twilio", "africastalking", "gupshup"],
                [SmsRouteSettings(prefix="+91", prefer=["africastalking"])])
ORDERS = [  # phone, exclude, last -> order
    ("+14155550100", (), (), ["twilio", "africastalking", "gupshup"]),
    ("+14155550100", (), ("twilio",), ["africastalking", "gupshup", "twilio"]),
    (PHONE, (), (), ["africastalking", "twilio", "gupshup"]),
    (PHONE, (), ("africastalking",), ["twilio", "gupshup", "africastalking"]),
    (PHONE, ("twilio",), ("africastalking",), ["gupshup", "africastalking"]),
    (PHONE, ("africastalking",), ("africastalking",), ["twilio", "gupshup"]),
    (PHONE, (), ("unknown",), ["africastalking", "twilio", "gupshup"]),
]


@pytest.mark.parametrize(("phone", "exclude", "last", "order"), ORDERS)
def test_the_provider_that_failed_last_goes_to_the_back(phone, exclude, last, order):
    assert ROUTER.order(phone, exclude=exclude, last=last) == order


def _ask_for_otp(client) -> None:
    assert client.post("/api/v1/otp", json={"phone": PHONE},
                       headers={"X-API-Key": API_KEY}).status_code == 201


def test_an_otp_asked_for_again_goes_to_another_provider_first(sms_client, ctx, fake, db,
                                                                redis_client):
    _ask_for_otp(sms_client)
    run_worker(ctx)
    assert len(fake.twilio.delivered()) == 1  # accepted, but no report came: not received
    redis_client.delete(f"vaxgate:otp:cooldown:{PHONE}")  # the person waited and asks again
    _ask_for_otp(sms_client)
    run_worker(ctx)
    assert len(fake.africastalking.delivered()) == 1 and len(fake.twilio.received) == 1
    with db.read() as session:
        second = session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert (second.status, second.provider, second.try_last) == (
            "sent", "africastalking", "twilio")
