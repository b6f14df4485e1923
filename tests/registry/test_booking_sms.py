"""Every USSD booking, cancellation and reschedule sends an SMS in the person's language,
through the ledger and a real RQ worker (the sandbox provider records what it "sent")."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from gateway.sms import sweeper
from gateway.sms.outbox import QUEUES
from gateway.sms.providers.sandbox import sandbox_inbox
from gateway.storage.ledger import Message
from gateway.storage.models import utcnow
from tests.ussd_menus.test_ussd_journeys import (
    BENGALI,
    ENGLISH,
    MY_APPOINTMENTS,
    REFERENCE,
    YES,
    book_first_choices,
    register,
)
from workers import jobs
from workers.worker import Worker, build_context


@pytest.fixture
def drain(settings, db, redis_client):
    """Run every queued SMS job in-process, as `vaxgate worker` would."""
    jobs.install(build_context(settings, redis_client))
    yield lambda: Worker(list(QUEUES), connection=redis_client).work(burst=True)
    jobs.install(None)


def _book(phone, language=ENGLISH) -> str:
    phone.dial()
    phone.send(language)
    register(phone)
    phone.send("00")
    return REFERENCE.search(book_first_choices(phone)).group(1)


@pytest.mark.usefixtures("demo_centers")
def test_a_ussd_booking_sends_one_confirmation_sms(phone, db, drain):
    reference = _book(phone)
    phone.post()  # the aggregator repeats the last request: still one SMS
    drain()
    with db.read() as session:
        messages = session.scalars(select(Message)).all()
        inbox = sandbox_inbox(session, phone.phone)
    assert len(messages) == 1
    assert messages[0].kind == "confirmation" and messages[0].status in ("sent", "delivered")
    assert len(inbox) == 1 and reference in inbox[0]["body"]
    assert "UPHC Kankarbagh" in inbox[0]["body"]


@pytest.mark.usefixtures("demo_centers")
def test_the_confirmation_is_in_the_callers_language(phone, db, drain):
    _book(phone, BENGALI)
    drain()
    with db.read() as session:
        message = session.scalar(select(Message))
    assert message.lang == "bn" and message.encoding == "ucs2"
    assert "বুকিং" in message.body


@pytest.mark.usefixtures("demo_centers")
def test_cancel_and_reschedule_each_send_their_own_sms(phone, db, drain):
    _book(phone)
    phone.dial()
    phone.send(MY_APPOINTMENTS, "1", "2", "2", "1", "1", YES)  # reschedule
    phone.dial()
    phone.send(MY_APPOINTMENTS, "1", "1", YES)  # cancel
    drain()
    with db.read() as session:
        bodies = [m.body for m in session.scalars(select(Message).order_by(Message.id))]
    assert len(bodies) == 3
    assert "booked" in bodies[0] and "moved" in bodies[1] and "cancelled" in bodies[2]


@pytest.mark.usefixtures("demo_centers")
def test_a_booking_whose_send_job_redis_lost_still_gets_its_sms(phone, db, drain,
                                                                 redis_client):
    _book(phone)
    redis_client.flushall()  # the send job is lost with Redis
    later = utcnow() + dt.timedelta(seconds=sweeper.QUEUED_GRACE_S + 1)
    assert sweeper.sweep(jobs.context(), now=later)["requeued"] == 1
    drain()
    with db.read() as session:
        assert len(sandbox_inbox(session, phone.phone)) == 1
