"""Time-travel tests of the reminder sweeper against a real database and Redis."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from rq import Queue

from gateway.registry import appointments
from gateway.reminders import sweeper
from gateway.reminders.models import OptOut
from gateway.sms.outbox import enqueue_messages
from gateway.storage import Appointment

from .support import book, center, ist, person, reminders, slot

DAY = dt.date(2026, 11, 24)  # appointments at 10:00-12:00 IST on this day


@pytest.fixture
def booked(db):
    """One person booked for DAY 10:00 (booked on the 20th)."""
    with time_machine.travel(ist(2026, 11, 20, 12), tick=False):
        slot_id = slot(db, center(db), DAY, dt.time(10), dt.time(12))
        return book(db, person(db), slot_id)


def sweep_at(db, settings, moment, **kw):
    with time_machine.travel(moment, tick=False):
        return sweeper.sweep_reminders(db, settings, **kw)


def keys(db):
    return [m.dedupe_key.rsplit(":", 1)[1] for m in reminders(db)]


def test_each_reminder_is_created_once_however_often_the_sweeper_runs(db, rsettings, booked):
    sweep_at(db, rsettings, ist(2026, 11, 23, 9, 50))
    assert keys(db) == []
    for minute in (0, 0, 1, 30):  # runs twice at the due time, then again later
        sweep_at(db, rsettings, ist(2026, 11, 23, 10, minute))
    assert keys(db) == ["1440"]
    for minute in (0, 0, 5):
        sweep_at(db, rsettings, ist(2026, 11, 24, 8, minute))
    assert keys(db) == ["1440", "120"]


def test_a_sweeper_that_was_down_catches_up_with_the_latest_reminder_only(db, rsettings, booked):
    sweep_at(db, rsettings, ist(2026, 11, 23, 9))  # last pass before the outage
    sweep_at(db, rsettings, ist(2026, 11, 24, 8, 30))  # back 22 hours later
    assert keys(db) == ["120"]


def test_a_pass_that_crashes_before_commit_is_redone_by_the_next(db, rsettings, booked,
                                                                   monkeypatch):
    sweep_at(db, rsettings, ist(2026, 11, 23, 9))

    def crash(*args):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(sweeper, "_advance", crash)
    with pytest.raises(RuntimeError):
        sweep_at(db, rsettings, ist(2026, 11, 23, 10))
    assert keys(db) == []
    monkeypatch.undo()
    sweep_at(db, rsettings, ist(2026, 11, 23, 10, 1))
    sweep_at(db, rsettings, ist(2026, 11, 23, 10, 2))
    assert keys(db) == ["1440"]


def test_a_lost_enqueue_keeps_the_reminder_queued_in_sql_and_is_not_duplicated(
        db, rsettings, booked):
    def redis_down(ids):
        raise ConnectionError("redis gone")

    sweep_at(db, rsettings, ist(2026, 11, 23, 10), enqueue=redis_down)
    sweep_at(db, rsettings, ist(2026, 11, 23, 10, 1))
    assert [m.status for m in reminders(db)] == ["queued"]  # the SMS sweeper re-enqueues it


def test_a_cancelled_appointment_gets_no_reminder(db, rsettings, booked):
    with db.write() as session:
        appointments.cancel(session, booked)
    sweep_at(db, rsettings, ist(2026, 11, 23, 10))
    sweep_at(db, rsettings, ist(2026, 11, 24, 8))
    assert reminders(db) == []


def test_cancelling_withdraws_a_reminder_still_waiting_in_the_queue(db, rsettings, booked):
    sweep_at(db, rsettings, ist(2026, 11, 23, 10))
    with db.write() as session:
        appointments.cancel(session, booked)
    [message] = reminders(db)
    assert message.status == "expired" and "cancelled" in message.status_reason


def test_a_rescheduled_appointment_is_reminded_of_its_new_time_only(db, rsettings, booked):
    new_slot = slot(db, center(db, code="PAT2", name="PHC Danapur"), DAY + dt.timedelta(days=2),
                    dt.time(14), dt.time(16))
    with time_machine.travel(ist(2026, 11, 22, 12), tick=False), db.write() as session:
        new_id = appointments.reschedule(session, booked, new_slot, today=DAY).id
    for moment in (ist(2026, 11, 23, 10), ist(2026, 11, 24, 8), ist(2026, 11, 25, 14),
                   ist(2026, 11, 26, 12)):
        sweep_at(db, rsettings, moment)
    assert [m.dedupe_key for m in reminders(db)] == [f"reminder:{new_id}:1440",
                                                     f"reminder:{new_id}:120"]
    assert "PHC Danapur" in reminders(db)[0].body


@pytest.mark.parametrize("start, quiet_sweep, sent_sweep", [
    (dt.time(9), ist(2026, 11, 24, 7, 30), ist(2026, 11, 24, 8)),  # 2 h before = 07:00
    (dt.time(9, 30), ist(2026, 11, 24, 7, 45), ist(2026, 11, 24, 8, 1)),
])
def test_a_reminder_due_in_quiet_hours_waits_for_their_end(db, rsettings, start, quiet_sweep,
                                                           sent_sweep):
    with time_machine.travel(ist(2026, 11, 20, 12), tick=False):
        book(db, person(db), slot(db, center(db), DAY, start, dt.time(11)))
    sweep_at(db, rsettings, ist(2026, 11, 23, 8, 30))  # the sweeper's first pass
    sweep_at(db, rsettings, ist(2026, 11, 23, 20))
    sweep_at(db, rsettings, quiet_sweep)
    assert keys(db) == ["1440"]
    sweep_at(db, rsettings, sent_sweep)
    assert keys(db) == ["1440", "120"]


def test_no_reminder_when_quiet_hours_last_until_the_appointment(db, rsettings):
    with time_machine.travel(ist(2026, 11, 20, 12), tick=False):
        book(db, person(db), slot(db, center(db), DAY, dt.time(8), dt.time(10)))
    for moment in (ist(2026, 11, 23, 7, 30), ist(2026, 11, 23, 8), ist(2026, 11, 24, 6),
                   ist(2026, 11, 24, 7, 59), ist(2026, 11, 24, 8, 30)):
        sweep_at(db, rsettings, moment)
    assert keys(db) == ["1440"]


def test_the_reminder_is_in_the_persons_language_and_expires_at_the_appointment(db, rsettings):
    with time_machine.travel(ist(2026, 11, 20, 12), tick=False):
        book(db, person(db, lang="hi"), slot(db, center(db), DAY, dt.time(10), dt.time(12)))
    sweep_at(db, rsettings, ist(2026, 11, 23, 10))
    [message] = reminders(db)
    assert message.lang == "hi" and "टीकाकरण" in message.body and "10:00-12:00" in message.body
    expires = message.expires_at.replace(tzinfo=dt.UTC) if message.expires_at.tzinfo is None \
        else message.expires_at
    assert expires == ist(2026, 11, 24, 10)


def test_a_planned_reminder_records_its_sms_template_for_the_dlt_rules(db, rsettings):
    with time_machine.travel(ist(2026, 11, 20, 12), tick=False):
        book(db, person(db, lang="bn"), slot(db, center(db), DAY, dt.time(10), dt.time(12)))
    sweep_at(db, rsettings, ist(2026, 11, 23, 10))
    [message] = reminders(db)
    assert (message.template, message.dlt_template_id) == ("reminder", None)  # none shipped


def test_an_opted_out_phone_gets_its_reminder_recorded_as_not_sent(db, rsettings, booked):
    with db.write() as session:
        session.add(OptOut(phone=session.get(Appointment, booked).beneficiary.phone))
    sweep_at(db, rsettings, ist(2026, 11, 23, 10))
    [message] = reminders(db)
    assert (message.status, message.status_reason) == ("failed", "opted out (STOP)")


def test_reminders_go_on_the_bulk_queue(db, rsettings, booked, redis_client):
    sweep_at(db, rsettings, ist(2026, 11, 23, 10), enqueue=lambda ids: enqueue_messages(
        redis_client, ids, queue="bulk", settings=rsettings.sms))
    assert Queue("bulk", connection=redis_client).count == 1
    assert Queue("otp", connection=redis_client).count == 0
