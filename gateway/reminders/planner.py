"""The reminder rule, pure: when each reminder of an appointment is due, or why it is not sent.

A reminder for offset *o* is due at the appointment's window start minus *o*. If that falls
inside the quiet hours (local wall-clock time in the configured zone; the window may cross
midnight), it moves to the end of the quiet window — unless that is not before the
appointment, and then it is not sent. A reminder is not sent for an appointment booked
after it was due (the booking confirmation said it all), and once a later reminder is due
an earlier one that was never sent is dropped (one reminder, not two in a row).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from zoneinfo import ZoneInfo

TICK = dt.timedelta(microseconds=1)


class Decision(str, Enum):
    DUE = "due"
    NOT_YET_DUE = "not_yet_due"
    QUIET_UNTIL_START = "quiet_until_start"
    BOOKED_AFTER = "booked_after"
    SUPERSEDED = "superseded"
    STARTED = "started"


REASONS = {
    Decision.QUIET_UNTIL_START: "quiet hours last until the appointment",
    Decision.BOOKED_AFTER: "booked after it was due",
    Decision.SUPERSEDED: "a later reminder replaced it",
    Decision.STARTED: "the appointment has begun",
}


@dataclass(frozen=True)
class QuietHours:
    """A local wall-clock window in which nothing is sent; ``start == end`` means none."""

    start: dt.time
    end: dt.time
    zone: ZoneInfo

    def contains(self, local: dt.datetime) -> bool:
        t = local.timetz().replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def window_of(self, local: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The (start, end) of the quiet window containing ``local`` (which it must be in)."""
        day = local.date()
        crosses = self.start > self.end
        if crosses and local.time() < self.end:
            day -= dt.timedelta(days=1)
        end_day = day + dt.timedelta(days=1) if crosses else day
        return (dt.datetime.combine(day, self.start, self.zone),
                dt.datetime.combine(end_day, self.end, self.zone))

    def send_time(self, due: dt.datetime) -> dt.datetime:
        """``due`` (UTC), moved to the end of the quiet window it falls in."""
        local = due.astimezone(self.zone)
        if not self.contains(local):
            return due
        return self.window_of(local)[1].astimezone(dt.UTC)

    def latest_due_sent_by(self, moment: dt.datetime) -> dt.datetime:
        """The latest raw due time whose send time is at or before ``moment`` (UTC).

        Send times never run backwards, so the reminders sendable by ``moment`` are exactly
        those with a raw due time up to this; the sweeper turns it into a range of
        appointment start times.
        """
        local = moment.astimezone(self.zone)
        if not self.contains(local):
            return moment
        return self.window_of(local)[0].astimezone(dt.UTC) - TICK


@dataclass(frozen=True)
class Planned:
    """The fate of one reminder: when it goes (``send_at``) and the decision at ``now``."""

    offset_minutes: int
    send_at: dt.datetime
    decision: Decision

    @property
    def reason(self) -> str:
        return REASONS.get(self.decision, "")


def appointment_start(date: dt.date, start_time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """A slot's local date and window start as an aware UTC datetime."""
    return dt.datetime.combine(date, start_time, zone).astimezone(dt.UTC)


def plan(start: dt.datetime, booked_at: dt.datetime, offsets: list[int], quiet: QuietHours,
         now: dt.datetime) -> list[Planned]:
    """Every reminder of one appointment (largest offset first), decided as of ``now``."""
    planned = [_one(start, booked_at, offset, quiet, now) for offset in sorted(offsets,
                                                                               reverse=True)]
    due = [p for p in planned if p.decision is Decision.DUE]
    latest = due[-1] if due else None
    return [Planned(p.offset_minutes, p.send_at, Decision.SUPERSEDED)
            if p.decision is Decision.DUE and p is not latest else p for p in planned]


def _one(start: dt.datetime, booked_at: dt.datetime, offset: int, quiet: QuietHours,
         now: dt.datetime) -> Planned:
    due = start - dt.timedelta(minutes=offset)
    send_at = quiet.send_time(due)
    if send_at >= start:
        decision = Decision.QUIET_UNTIL_START
    elif booked_at > due:
        decision = Decision.BOOKED_AFTER
    elif start <= now:
        decision = Decision.STARTED
    elif send_at > now:
        decision = Decision.NOT_YET_DUE
    else:
        decision = Decision.DUE
    return Planned(offset, send_at, decision)


def quiet_hours(settings) -> QuietHours:
    """The configured quiet hours (``settings``: the app Settings)."""
    window = settings.reminders.quiet_hours
    return QuietHours(window.start, window.end, ZoneInfo(settings.timezone))
