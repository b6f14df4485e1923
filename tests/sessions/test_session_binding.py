"""Attacks on another caller's session: a session id (USSD) or call id (IVR) sent with a
phone number other than the one that started it opens a fresh session for the number that
called; it never reads, continues or resumes the first caller's session."""
from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from gateway.storage import Appointment
from tests.conftest import UssdPhone
from tests.ussd_menus.test_ussd_journeys import (
    ENGLISH,
    MY_APPOINTMENTS,
    _booked_phone,
)

OTHER = "+919812300099"


def _mismatches(channel: str) -> float:
    return REGISTRY.get_sample_value("vaxgate_session_phone_mismatch_total",
                                     {"channel": channel}) or 0.0


@pytest.mark.usefixtures("demo_centers")
def test_another_phone_with_my_session_id_cannot_see_or_cancel_my_booking(client, db):
    owner = UssdPhone(client)
    reference = _booked_phone(owner)
    owner.dial()
    owner.send(ENGLISH, MY_APPOINTMENTS)
    before = _mismatches("ussd")
    thief = UssdPhone(client, phone=OTHER)
    thief.session_id, thief.history = owner.session_id, list(owner.history)
    listing = thief.post()
    cancel = thief.send("1", "1", "1")
    assert reference not in listing and reference not in cancel
    assert _mismatches("ussd") == before + 1
    with db.read() as session:
        assert session.scalar(select(Appointment.status)) == "booked"


@pytest.mark.usefixtures("demo_centers")
def test_another_phones_redial_is_not_offered_my_unfinished_session(client):
    owner = UssdPhone(client)
    owner.dial()
    owner.send(ENGLISH, "1", "Sita Devi")  # registration left half-way
    thief = UssdPhone(client, phone=OTHER)
    thief.session_id, thief.history = owner.session_id, list(owner.history)
    thief.post()
    first = thief.dial()
    assert "Sita" not in first
    assert "continue" not in first.lower()


def test_rotating_the_phone_number_does_not_move_a_session_forward(client):
    owner = UssdPhone(client)
    owner.dial()
    screens = []
    for n in range(5):
        rotated = UssdPhone(client, phone=f"+9198123000{n:02d}")
        rotated.session_id = owner.session_id
        rotated.history = [ENGLISH] * (n + 1)
        screens.append(rotated.post())
    assert len(set(screens)) == 1  # every number sees its own first screen
