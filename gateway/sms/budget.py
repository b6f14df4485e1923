"""What SMS may cost: a budget per number, and a daily figure for the whole deployment.

Per number: confirmations, notices and reminders recorded for one phone in the last hour
and the last day (sliding windows, counted in the ledger) may not pass
``sms.budget.per_number_per_hour`` / ``per_number_per_day``. A book-and-cancel loop on one
number thus costs at most those; a message past them is still written to the ledger, as
``failed`` with the reason :data:`REASON` and no provider, so "who was messaged" stays
answerable and nothing is sent. OTPs are not counted here: they keep their own caps
(``otp.max_per_phone_per_hour``), and a budget used up by notices must never stop a code.

Check and count are one step: on SQLite every write transaction holds the database's write
lock (``BEGIN IMMEDIATE``); on PostgreSQL the transaction first takes an advisory lock per
phone, so two concurrent bookings on one number cannot both take its last place.

Deployment-wide: every SMS recorded since local midnight, against
``sms.budget.deployment_per_day``; past it the dashboard and ``/metrics`` raise an alarm, and
sending goes on (stopping every OTP of a state would be worse than the bill).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from prometheus_client import Counter
from sqlalchemy import bindparam, case, func, or_, select, text
from sqlalchemy.orm import Session

from gateway.config import Settings, SmsBudgetSettings
from gateway.storage.fast_read import FastRead
from gateway.storage.ledger import Message, MessageKind, MessageStatus

REASON = "not sent: this number's SMS budget is used up"  # its status_reason
SUPPRESSED = Counter("vaxgate_sms_suppressed_total",
                     "SMS recorded but not sent: the number's budget was used up", ["kind"])
LOCK_NAMESPACE = 7401  # pg_advisory_xact_lock(namespace, hashtext(phone))
# in the array's order (unnest scans it in order); held until the transaction ends
_LOCK_PHONES = text("SELECT pg_advisory_xact_lock(:namespace, hashtext(p)) "
                    "FROM unnest(CAST(:phones AS text[])) AS p")
# a row costs (or will cost) money: handed to a provider, or still on its way there
_COSTS = or_(Message.provider.is_not(None), Message.status == MessageStatus.QUEUED.value,
             Message.status == MessageStatus.SENDING.value)  # no IN: FastRead has none


@dataclass(frozen=True)
class Budget:
    """The per-number limits in force (0: no limit)."""

    per_hour: int
    per_day: int

    @classmethod
    def of(cls, settings: SmsBudgetSettings) -> Budget:
        return cls(settings.per_number_per_hour, settings.per_number_per_day)

    def room(self, session: Session, wanted: dict[str, int], now: dt.datetime) -> dict[str, int]:
        """How many of ``wanted[phone]`` new messages each phone may still be sent, inside the
        caller's write transaction (which then holds the phones until it ends)."""
        if not wanted or not (self.per_hour or self.per_day):
            return dict(wanted)
        phones = sorted(wanted)  # one order for every transaction: no deadlock
        if session.get_bind().dialect.name == "postgresql":
            session.execute(_LOCK_PHONES, {"namespace": LOCK_NAMESPACE, "phones": phones})
        used = _used(session, phones, now.astimezone(dt.UTC))
        room = {}
        for phone in phones:
            hour, day = used.get(phone, (0, 0))
            left = [limit - spent for limit, spent in ((self.per_hour, hour), (self.per_day, day))
                    if limit]
            room[phone] = max(0, min(wanted[phone], *left))
        return room


def _counted(phones, hour_ago, day_ago):
    """phone, messages of the last hour, of the last day: the rows that count against it."""
    return (select(Message.phone, func.sum(case((Message.created_at > hour_ago, 1), else_=0)),
                   func.count())
            .where(phones, Message.kind != MessageKind.OTP.value,
                   Message.created_at > day_ago, _COSTS)
            .group_by(Message.phone))


# one phone: every booking, cancellation and notice of a caller's step
_USED_BY_ONE = FastRead(_counted(Message.phone == bindparam("phone"),
                                 bindparam("hour_ago", type_=Message.created_at.type),
                                 bindparam("day_ago", type_=Message.created_at.type)))


def _used(session: Session, phones: list[str], now: dt.datetime) -> dict[str, tuple[int, int]]:
    """phone -> (messages of the last hour, of the last day) that count against the budget."""
    hour_ago, day_ago = now - dt.timedelta(hours=1), now - dt.timedelta(days=1)
    if len(phones) == 1:
        rows = _USED_BY_ONE.rows(session, phone=phones[0], hour_ago=hour_ago, day_ago=day_ago)
    else:
        rows = [row for first in range(0, len(phones), 5000)  # bounded IN lists
                for row in session.execute(_counted(Message.phone.in_(phones[first:first + 5000]),
                                                    hour_ago, day_ago))]
    return {phone: (int(hour or 0), int(day)) for phone, hour, day in rows}


def suppress(row: dict) -> dict:
    """Mark a ledger row (the dict ``record_message`` or the reminder sweeper inserts) as held
    back by the budget: written, never sent."""
    SUPPRESSED.labels(row["kind"]).inc()
    return row | {"status": MessageStatus.FAILED.value, "status_reason": REASON}


def apply(session: Session, budget: Budget | None, rows: Iterable[dict],
          now: dt.datetime) -> list[dict]:
    """The queued ``rows`` (in the order given) with those past their phone's budget marked
    by :func:`suppress`; rows of other statuses and OTPs pass as they are."""
    rows = list(rows)
    counted = [r for r in rows if r["status"] == MessageStatus.QUEUED.value
               and r["kind"] != MessageKind.OTP.value]
    if budget is None or not counted:
        return rows
    wanted: dict[str, int] = {}
    for row in counted:
        wanted[row["phone"]] = wanted.get(row["phone"], 0) + 1
    room = budget.room(session, wanted, now)
    held = set()
    for row in counted:
        if room[row["phone"]] > 0:
            room[row["phone"]] -= 1
        else:
            held.add(id(row))
    return [suppress(row) if id(row) in held else row for row in rows]


@dataclass(frozen=True)
class DailyFigure:
    """The deployment's SMS since local midnight against its daily budget (0: none set)."""

    sent_today: int
    budget: int

    @property
    def exceeded(self) -> bool:
        return bool(self.budget) and self.sent_today > self.budget


def daily_figure(session: Session, settings: Settings, now: dt.datetime) -> DailyFigure:
    """Every SMS recorded since midnight in the deployment's time zone (suppressed ones
    aside), from the ledger's created_at index."""
    zone = ZoneInfo(settings.timezone)
    midnight = dt.datetime.combine(now.astimezone(zone).date(), dt.time(), zone)
    count = session.scalar(select(func.count()).select_from(Message).where(
        Message.created_at >= midnight.astimezone(dt.UTC), _COSTS)) or 0
    return DailyFigure(int(count), settings.sms.budget.deployment_per_day)
