"""Per-center day lists: who is coming, and whether each person's reminder reached them.

A reminder's status comes from its ledger row when there is one (``planned`` while queued,
``sent``, ``delivered``, ``failed`` with the provider's reason), else from the planner
(``not yet due``, ``planned`` when due and about to be created, or ``not sent`` with why).
Rows are produced lazily in batches so a 5,000-appointment day streams as CSV.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.reminders import planner
from gateway.reminders.keys import MAX_RESENDS, reminder_key, resend_key
from gateway.storage import Appointment, AppointmentStatus, Beneficiary, Center, Slot
from gateway.storage.ledger import Message, MessageStatus
from gateway.text import i18n
from gateway.text.times import as_utc

BATCH = 500
LISTED = (AppointmentStatus.BOOKED.value, AppointmentStatus.VACCINATED.value,
          AppointmentStatus.NO_SHOW.value)
CHANNELS = {"ussd": "phone menu", "ivr": "voice call", "sms": "SMS",
            "hw_ussd": "health worker (phone menu)", "hw_ivr": "health worker (voice call)",
            "hw_sms": "health worker (SMS)", "hw_csv": "paper list", "csv": "paper list",
            "import": "paper list", "admin": "console", "api": "partner app"}
LEDGER_STATUS = {MessageStatus.QUEUED.value: "planned", MessageStatus.SENDING.value: "planned",
                 MessageStatus.SENT.value: "sent", MessageStatus.DELIVERED.value: "delivered",
                 MessageStatus.FAILED.value: "failed", MessageStatus.UNDELIVERED.value: "failed",
                 MessageStatus.EXPIRED.value: "failed"}


@dataclass(frozen=True)
class ReminderState:
    """One reminder of one appointment: status and a detail (reason or time)."""

    label: str  # "24h", "2h", or "resend 1"
    status: str  # planned, sent, delivered, failed, not yet due, not sent, not needed
    detail: str = ""


@dataclass(frozen=True)
class DayRow:
    appointment_id: int
    reference: str
    name: str
    age_group: str
    window: str
    dose: int
    booked_via: str
    status: str
    reminders: tuple[ReminderState, ...]


@dataclass(frozen=True)
class _Booking:
    """The columns of one appointment that the day list and the reach report need."""

    appointment_id: int
    reference: str
    name: str
    age_group: str
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    dose: int
    channel: str
    status: str
    created_at: dt.datetime


def channel_words(channel: str) -> str:
    """How a booking was made, in words (``hw_sms`` -> ``health worker (SMS)``)."""
    return CHANNELS.get(channel, "other")


def offset_label(minutes: int) -> str:
    """``1440`` -> ``24h``, ``90`` -> ``90m``."""
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def columns(settings: Settings) -> list[str]:
    """The CSV header: the appointment, then status and detail per reminder offset."""
    cols = ["reference", "name", "age_group", "window", "dose", "booked_via", "status"]
    for minutes in settings.reminders.offset_minutes:
        cols += [f"reminder_{offset_label(minutes)}", f"reminder_{offset_label(minutes)}_detail"]
    return cols


def find_center(session: Session, code: str) -> Center | None:
    return session.scalar(select(Center).where(Center.code == code))


def day_rows(session: Session, center_id: int, day: dt.date, settings: Settings,
             now: dt.datetime) -> Iterator[DayRow]:
    """The center's appointments on ``day`` by time window, each with its reminder states."""
    query = _bookings_query().where(Slot.center_id == center_id, Slot.date == day,
                                    Appointment.status.in_(LISTED)) \
        .order_by(Slot.start_time, Appointment.reference)
    for batch in _batches(session.execute(query.execution_options(yield_per=BATCH))):
        states = reminder_states(session, batch, settings, now)
        for b in batch:
            yield DayRow(b.appointment_id, b.reference, b.name, b.age_group,
                         i18n.format_window(b.start_time, b.end_time, None), b.dose,
                         channel_words(b.channel), b.status,
                         _settled(b.status, states[b.appointment_id]))


def _settled(status: str, states: tuple[ReminderState, ...]) -> tuple[ReminderState, ...]:
    """A vaccinated or no-show booking needs no reminder the planner still has to make
    (``not yet due``, or ``planned`` with its time): ``not needed``. Ledger rows stay."""
    if status == AppointmentStatus.BOOKED.value:
        return states
    return tuple(ReminderState(s.label, "not needed")
                 if s.status == "not yet due" or (s.status == "planned" and s.detail)
                 else s for s in states)


def _bookings_query():
    return (select(Appointment.id, Appointment.reference, Beneficiary.name, Slot.age_group,
                   Slot.date, Slot.start_time, Slot.end_time, Appointment.dose,
                   Appointment.channel, Appointment.status, Appointment.created_at)
            .join(Beneficiary, Appointment.beneficiary_id == Beneficiary.id)
            .join(Slot, Appointment.slot_id == Slot.id))


def _batches(rows: Iterable) -> Iterator[list[_Booking]]:
    batch: list[_Booking] = []
    for row in rows:
        batch.append(_Booking(*row))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def reminder_states(session: Session, bookings: list[_Booking], settings: Settings,
                    now: dt.datetime) -> dict[int, tuple[ReminderState, ...]]:
    """Per appointment: a state per configured offset, then any re-sends that exist."""
    offsets = settings.reminders.offset_minutes
    keys = [k for b in bookings for k in _keys(b.appointment_id, offsets)]
    ledger = {key: (status, reason) for key, status, reason in session.execute(
        select(Message.dedupe_key, Message.status, Message.status_reason)
        .where(Message.dedupe_key.in_(keys)))}
    quiet, zone = planner.quiet_hours(settings), ZoneInfo(settings.timezone)
    result = {}
    for b in bookings:
        start = planner.appointment_start(b.date, b.start_time, zone)
        fates = planner.plan(start, as_utc(b.created_at), offsets, quiet, now)
        states = [_state(ledger.get(reminder_key(b.appointment_id, p.offset_minutes)), p, zone)
                  for p in fates]
        states += [_from_ledger(f"resend {n}", ledger[resend_key(b.appointment_id, n)])
                   for n in range(1, MAX_RESENDS + 1)
                   if resend_key(b.appointment_id, n) in ledger]
        result[b.appointment_id] = tuple(states)
    return result


def _keys(appointment_id: int, offsets: list[int]) -> list[str]:
    return ([reminder_key(appointment_id, o) for o in offsets]
            + [resend_key(appointment_id, n) for n in range(1, MAX_RESENDS + 1)])


def _state(found: tuple[str, str] | None, fate: planner.Planned, zone: ZoneInfo) -> ReminderState:
    label = offset_label(fate.offset_minutes)
    if found is not None:
        return _from_ledger(label, found)
    when = fate.send_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if fate.decision is planner.Decision.NOT_YET_DUE:
        return ReminderState(label, "not yet due", when)
    if fate.decision is planner.Decision.DUE:
        return ReminderState(label, "planned", when)
    return ReminderState(label, "not sent", fate.reason)


def _from_ledger(label: str, found: tuple[str, str]) -> ReminderState:
    status, reason = found
    shown = LEDGER_STATUS.get(status, status)
    detail = (reason or status) if shown == "failed" else ""
    return ReminderState(label, shown, detail)


# ---- output --------------------------------------------------------------------------------

def as_dict(row: DayRow) -> dict:
    return {"reference": row.reference, "name": row.name, "age_group": row.age_group,
            "window": row.window, "dose": row.dose, "booked_via": row.booked_via,
            "status": row.status,
            "reminders": [{"reminder": s.label, "status": s.status, "detail": s.detail}
                          for s in row.reminders]}


def csv_lines(rows: Iterable[DayRow], settings: Settings) -> Iterator[str]:
    """The day list as CSV text, a batch of rows per chunk (for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns(settings))
    offsets = len(settings.reminders.offset_minutes)
    for n, row in enumerate(rows, 1):
        cells = [row.reference, row.name, row.age_group, row.window, row.dose, row.booked_via,
                 row.status]
        for state in row.reminders[:offsets]:
            cells += [state.status, state.detail]
        writer.writerow([_safe(c) for c in cells])
        if n % BATCH == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _safe(cell: object) -> object:
    """Keep spreadsheets from running a cell as a formula (``=``, ``+``, ``-``, ``@``)."""
    return f"'{cell}" if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@") else cell


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
