"""The reminder rule as a table: due times, quiet hours, never after the appointment."""
from __future__ import annotations

import datetime as dt

import pytest

from gateway.reminders.planner import Decision, QuietHours, appointment_start, plan

from .support import IST, ist

QUIET = QuietHours(dt.time(21), dt.time(8), IST)
OFFSETS = [1440, 120]
BOOKED = ist(2026, 11, 20, 12)


def fate(start, now, booked=BOOKED, quiet=QUIET):
    return {p.offset_minutes: (p.decision, p.send_at.astimezone(IST))
            for p in plan(start.astimezone(dt.UTC), booked.astimezone(dt.UTC), OFFSETS, quiet,
                          now.astimezone(dt.UTC))}


@pytest.mark.parametrize("start, now, offset, decision, send_at", [
    # a 10:00 appointment: 24 h before is 10:00 the day before, 2 h before is 08:00
    (ist(2026, 11, 23, 10), ist(2026, 11, 22, 9, 59), 1440, Decision.NOT_YET_DUE,
     ist(2026, 11, 22, 10)),
    (ist(2026, 11, 23, 10), ist(2026, 11, 22, 10), 1440, Decision.DUE, ist(2026, 11, 22, 10)),
    (ist(2026, 11, 23, 10), ist(2026, 11, 23, 8), 120, Decision.DUE, ist(2026, 11, 23, 8)),
    # once the 2 h reminder is due, an unsent 24 h one is dropped
    (ist(2026, 11, 23, 10), ist(2026, 11, 23, 8), 1440, Decision.SUPERSEDED,
     ist(2026, 11, 22, 10)),
    # 09:00: 2 h before is 07:00, inside quiet hours -> sent at 08:00
    (ist(2026, 11, 23, 9), ist(2026, 11, 23, 7, 30), 120, Decision.NOT_YET_DUE,
     ist(2026, 11, 23, 8)),
    (ist(2026, 11, 23, 9), ist(2026, 11, 23, 8), 120, Decision.DUE, ist(2026, 11, 23, 8)),
    # 08:00: the end of quiet hours is the appointment itself -> not sent
    (ist(2026, 11, 23, 8), ist(2026, 11, 23, 7, 59), 120, Decision.QUIET_UNTIL_START,
     ist(2026, 11, 23, 8)),
    # 22:30 the day before falls in quiet hours that cross midnight -> 08:00
    (ist(2026, 11, 23, 22, 30), ist(2026, 11, 23, 8), 1440, Decision.DUE,
     ist(2026, 11, 23, 8)),
    # the appointment has begun: nothing more is sent
    (ist(2026, 11, 23, 10), ist(2026, 11, 23, 10), 120, Decision.STARTED, ist(2026, 11, 23, 8)),
])
def test_reminder_decisions(start, now, offset, decision, send_at):
    assert fate(start, now)[offset] == (decision, send_at)


def test_a_booking_made_after_a_reminder_was_due_gets_no_such_reminder():
    start = ist(2026, 11, 23, 10)
    result = fate(start, ist(2026, 11, 22, 15), booked=ist(2026, 11, 22, 14))
    assert result[1440][0] is Decision.BOOKED_AFTER
    assert result[120][0] is Decision.NOT_YET_DUE


def test_quiet_hours_that_do_not_cross_midnight():
    quiet = QuietHours(dt.time(13), dt.time(14), IST)
    result = fate(ist(2026, 11, 23, 15), ist(2026, 11, 23, 14), quiet=quiet)
    assert result[120] == (Decision.DUE, ist(2026, 11, 23, 14))


def test_equal_start_and_end_means_no_quiet_hours():
    quiet = QuietHours(dt.time(0), dt.time(0), IST)
    assert fate(ist(2026, 11, 23, 9), ist(2026, 11, 23, 7), quiet=quiet)[120][0] is Decision.DUE


@pytest.mark.parametrize("day", [dt.date(2026, 3, 29), dt.date(2026, 10, 25),
                                 dt.date(2026, 3, 8), dt.date(2026, 11, 1)])
def test_ist_has_no_daylight_saving_so_24h_before_is_the_same_clock_time(day):
    start = appointment_start(day, dt.time(10), IST)
    assert start.utcoffset() == dt.timedelta(0)
    assert start.astimezone(IST).utcoffset() == dt.timedelta(hours=5, minutes=30)
    planned = plan(start, start - dt.timedelta(days=3), [1440], QUIET, start)[0]
    assert planned.send_at.astimezone(IST).time() == dt.time(10)


@pytest.mark.parametrize("moment, latest", [
    (ist(2026, 11, 22, 20, 59), ist(2026, 11, 22, 20, 59)),
    (ist(2026, 11, 22, 23), ist(2026, 11, 22, 21) - dt.timedelta(microseconds=1)),
    (ist(2026, 11, 23, 7, 59), ist(2026, 11, 22, 21) - dt.timedelta(microseconds=1)),
    (ist(2026, 11, 23, 8), ist(2026, 11, 23, 8)),
])
def test_latest_due_sent_by_inverts_the_quiet_hour_shift(moment, latest):
    assert QUIET.latest_due_sent_by(moment) == latest
