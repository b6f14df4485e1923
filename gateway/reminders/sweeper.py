"""The reminder sweeper: create every due reminder in the SMS ledger, exactly once.

SQL is the source of truth. For each offset a watermark records up to which send time the
reminders were planned; a pass covers (watermark - overlap, now], so a sweeper that ran
late or crashed catches up, and the overlap covers bookings committed just after a pass.
Each reminder's ledger ``dedupe_key`` is ``reminder:<appointment>:<offset>`` and rows are
inserted with ``ON CONFLICT DO NOTHING``: two sweepers, or the same pass run twice, create
one row. Rows, watermark and nothing else are one transaction; the send jobs go on the
``bulk`` queue after commit (the SMS sweeper enqueues any that Redis lost).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.reminders import planner, texts
from gateway.reminders.keys import reminder_key
from gateway.reminders.models import OptOut, ReminderWatermark
from gateway.sms import budget
from gateway.sms.templates import dlt_fields
from gateway.storage import Appointment, AppointmentStatus, Beneficiary, Center, Database, Slot
from gateway.storage.ledger import Message, MessageKind, MessageStatus
from gateway.storage.models import utcnow
from gateway.text.encoding import sms_segments
from gateway.text.times import as_utc

log = logging.getLogger("vaxgate.reminders")
OVERLAP = dt.timedelta(minutes=2)
FIRST_LOOKBACK = dt.timedelta(hours=1)  # how far back the very first pass of an offset looks
OPTED_OUT = "opted out (STOP)"
CHUNK = 5000


@dataclass(frozen=True)
class Candidate:
    """One booked appointment in a sweep's time range, with what its SMS needs."""

    appointment_id: int
    reference: str
    created_at: dt.datetime
    phone: str
    name: str
    lang: str
    center: str
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    start: dt.datetime


def sweep_reminders(db: Database, settings: Settings, now: dt.datetime | None = None,
                    enqueue: Callable[[list[int]], object] | None = None) -> dict[str, int]:
    """One pass over every offset; returns counts (created, opted_out) for the job result."""
    now = (now or utcnow()).astimezone(dt.UTC)  # SQLite keeps no zone: store UTC only
    totals = {"created": 0, "opted_out": 0}
    for offset in settings.reminders.offset_minutes:
        queued, opted_out = _sweep_offset(db, settings, offset, now)
        totals["created"] += len(queued) + opted_out
        totals["opted_out"] += opted_out
        if enqueue and queued:
            _enqueue(enqueue, queued)
    return totals


def _sweep_offset(db: Database, settings: Settings, offset: int,
                  now: dt.datetime) -> tuple[list[int], int]:
    quiet = planner.quiet_hours(settings)
    offsets = settings.reminders.offset_minutes
    with db.write() as session:
        since = _watermark(session, offset, now)
        lo = quiet.latest_due_sent_by(since - OVERLAP) + dt.timedelta(minutes=offset)
        hi = quiet.latest_due_sent_by(now) + dt.timedelta(minutes=offset)
        rows = []
        for cand in candidates(session, quiet.zone, lo, hi):
            fate = planner.plan(cand.start, cand.created_at, offsets, quiet, now)
            if any(p.offset_minutes == offset and p.decision is planner.Decision.DUE
                   for p in fate):
                rows.append(_row(cand, offset))
        opted_out = _opted_out(session, {r["phone"] for r in rows})
        for row in rows:
            if row["phone"] in opted_out:
                row.update(status=MessageStatus.FAILED.value, status_reason=OPTED_OUT)
        rows = budget.apply(session, budget.Budget.of(settings.sms.budget), rows, now)
        created = insert_messages(session, rows)
        _advance(session, offset, now)
    queued = [mid for mid, status in created if status == MessageStatus.QUEUED.value]
    return queued, len(created) - len(queued)


def candidates(session: Session, zone: ZoneInfo, after: dt.datetime,
               until: dt.datetime) -> Iterable[Candidate]:
    """Booked appointments whose window starts in (after, until] (UTC)."""
    first, last = after.astimezone(zone).date(), until.astimezone(zone).date()
    slots = session.execute(select(Slot.id, Slot.date, Slot.start_time).where(
        Slot.date >= first, Slot.date <= last)).all()
    starts = {sid: planner.appointment_start(d, t, zone) for sid, d, t in slots}
    wanted = [sid for sid, start in starts.items() if after < start <= until]
    for i in range(0, len(wanted), CHUNK):
        query = (select(Appointment.id, Appointment.reference, Appointment.created_at,
                        Beneficiary.phone, Beneficiary.name, Beneficiary.language, Center.name,
                        Slot.date, Slot.start_time, Slot.end_time, Slot.id)
                 .join(Beneficiary, Appointment.beneficiary_id == Beneficiary.id)
                 .join(Slot, Appointment.slot_id == Slot.id)
                 .join(Center, Slot.center_id == Center.id)
                 .where(Appointment.slot_id.in_(wanted[i:i + CHUNK]),
                        Appointment.status == AppointmentStatus.BOOKED.value))
        for *fields, slot_id in session.execute(query):
            fields[2] = as_utc(fields[2])
            yield Candidate(*fields, start=starts[slot_id])


def _row(cand: Candidate, offset: int) -> dict:
    body = texts.render("reminder", cand.lang, name=cand.name, date=cand.date,
                        window=(cand.start_time, cand.end_time), center=cand.center,
                        reference=cand.reference)
    encoding, segments = sms_segments(body)
    now = utcnow()
    return {"dedupe_key": reminder_key(cand.appointment_id, offset), "phone": cand.phone,
            "kind": MessageKind.REMINDER.value, "body": body, "lang": cand.lang,
            "encoding": encoding, "segments": segments, "status": MessageStatus.QUEUED.value,
            "status_reason": "", "resends": 0, "expires_at": cand.start, "created_at": now,
            "updated_at": now, **dlt_fields(body)}


def insert_messages(session: Session, rows: list[dict]) -> list[tuple[int, str]]:
    """Insert ledger rows, skipping any whose dedupe_key exists; (id, status) of new ones."""
    if not rows:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = Message.__table__
    stmt = (dialect.insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id, table.c.status))
    return [(r.id, r.status) for r in session.connection().execute(stmt, rows)]


def _opted_out(session: Session, phones: set[str]) -> set[str]:
    found: set[str] = set()
    listed = sorted(phones)
    for i in range(0, len(listed), CHUNK):
        found.update(session.scalars(select(OptOut.phone).where(
            OptOut.phone.in_(listed[i:i + CHUNK]))))
    return found


def _watermark(session: Session, offset: int, now: dt.datetime) -> dt.datetime:
    mark = session.get(ReminderWatermark, offset)
    if mark is None:
        session.add(ReminderWatermark(offset_minutes=offset, planned_until=now - FIRST_LOOKBACK))
        session.flush()
        return now - FIRST_LOOKBACK
    return as_utc(mark.planned_until)


def _advance(session: Session, offset: int, now: dt.datetime) -> None:
    session.execute(update(ReminderWatermark).where(
        ReminderWatermark.offset_minutes == offset, ReminderWatermark.planned_until < now)
        .values(planned_until=now))


def _enqueue(enqueue: Callable[[list[int]], object], ids: list[int]) -> None:
    try:
        for first in range(0, len(ids), CHUNK):  # bounded Redis pipelines
            enqueue(ids[first:first + CHUNK])
    except Exception as exc:  # noqa: BLE001 - rows are queued in SQL; the SMS sweeper retries
        log.warning("could not enqueue %d reminders now (%s); the SMS sweeper will", len(ids),
                    exc)
