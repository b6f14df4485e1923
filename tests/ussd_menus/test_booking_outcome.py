"""A caller always learns a booking's outcome: a booking committed while Redis stalled (the
caller was told "try again") is shown with its code on the next dial."""
from __future__ import annotations

import time

import pytest
import redis
from sqlalchemy import select

from gateway.sessions.store import SessionStore
from gateway.storage import Appointment
from tests.ussd_menus.test_ussd_journeys import BOOK, ENGLISH, YES, register


def _stall_writes_during_the_next_save(monkeypatch, redis_client, ms: int) -> None:
    """Pause every Redis write (CLIENT PAUSE … WRITE) just before the step saves its session:
    the booking has committed in SQL, the save times out."""
    real = SessionStore.end_step

    def stalled(self, *args, **kwargs):
        monkeypatch.setattr(SessionStore, "end_step", real)
        redis_client.execute_command("CLIENT", "PAUSE", ms, "WRITE")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SessionStore, "end_step", stalled)


def _redis_writable(redis_client, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            redis_client.set("vaxgate:test:writable", 1, ex=5)
            return
        except redis.RedisError:
            time.sleep(0.1)


@pytest.mark.usefixtures("demo_centers")
def test_a_booking_committed_during_a_redis_stall_is_shown_on_redial(
        phone, db, redis_client, monkeypatch):
    phone.dial()
    phone.send(ENGLISH)
    register(phone)
    phone.send("00", BOOK, "1", "1", "1", "1")
    _stall_writes_during_the_next_save(monkeypatch, redis_client, 3000)
    told = phone.send(YES)
    _redis_writable(redis_client)
    with db.read() as session:
        reference = session.scalar(select(Appointment.reference))
    assert reference and reference not in told  # the step could not say it
    first = phone.dial()
    assert first.startswith("CON ") and reference in first.splitlines()[0]
    assert "My appointments" in first  # the main menu, titled with the code
