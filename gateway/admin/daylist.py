"""A center's day as a district officer reads it: who is coming (with phone and status in
words) and who was not reached, as HTML, CSV and PDF.

Builds on ``gateway.reminders.daylists`` (reminder states per appointment) and adds the
phone, the confirmation SMS and the last send attempt. Status, in the order a booking
moves: ``booked`` → ``reminded`` (a reminder went out) → ``reached`` (a delivery report
came back) → ``vaccinated``; or ``not reached`` (every reminder or the confirmation
failed) and ``did not come``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.reminders import daylists, reach
from gateway.reminders.keys import all_keys
from gateway.storage import Appointment, Beneficiary
from gateway.storage.ledger import Message, MessageStatus, SendAttempt
from gateway.text import pdf
from gateway.text.times import as_utc

FAILED = (MessageStatus.FAILED.value, MessageStatus.UNDELIVERED.value,
          MessageStatus.EXPIRED.value)
STATUS_WORDS = {"vaccinated": "vaccinated", "no_show": "did not come"}
HEADER = ("#", "time", "name", "phone", "age group", "dose", "booked through", "status",
          "reminders", "came")
WIDTHS = (3, 8, 16, 10, 6, 4, 12, 8, 22, 4)


@dataclass(frozen=True)
class Person:
    """One booking of the day, as the list shows it."""

    appointment_id: int
    reference: str
    window: str
    name: str
    phone: str
    age_group: str
    dose: int
    channel: str
    status: str
    reminders: str
    reason: str  # why not reached ("" when reached or not yet tried)
    last_attempt: str  # "06 Dec 09:12 via twilio" or ""


def confirmation_key(appointment_id: int) -> str:
    """The ledger key of an appointment's booking confirmation (registry/notifications)."""
    return f"appointment:{appointment_id}:booked"


def people(session: Session, center_id: int, day: dt.date, settings: Settings,
           now: dt.datetime) -> list[Person]:
    """Everyone booked at the center on ``day``, by time window."""
    rows = list(daylists.day_rows(session, center_id, day, settings, now))
    ids = [r.appointment_id for r in rows]
    phones = dict(session.execute(select(Appointment.id, Beneficiary.phone).join(
        Beneficiary, Appointment.beneficiary_id == Beneficiary.id)
        .where(Appointment.id.in_(ids))).all()) if ids else {}
    confirmations = _confirmations(session, ids)
    zone = ZoneInfo(settings.timezone)
    last = _last_attempts(session, ids, settings, zone)
    return [_person(r, phones.get(r.appointment_id, ""),
                    confirmations.get(r.appointment_id), last.get(r.appointment_id, ""))
            for r in rows]


def not_reached(persons: list[Person]) -> list[Person]:
    """Those still booked whose reminders or confirmation did not arrive."""
    return [p for p in persons if p.status == "not reached"]


def _person(row: daylists.DayRow, phone: str, confirmation: tuple[str, str] | None,
            last_attempt: str) -> Person:
    states = tuple(s for s in row.reminders if s.status != "not needed")  # vaccinated...
    outcome, reason = reach.summarise(row.reminders)
    confirmation_failed = confirmation is not None and confirmation[0] in FAILED
    status = STATUS_WORDS.get(row.status) or _booked_status(row.reminders, outcome,
                                                            confirmation_failed)
    if status == "not reached" and not reason and confirmation_failed:
        reason = f"confirmation: {confirmation[1] or confirmation[0]}"
    return Person(row.appointment_id, row.reference, row.window, row.name, phone,
                  row.age_group, row.dose, row.booked_via, status, _words(states),
                  reason if status == "not reached" else "", last_attempt)


def _booked_status(states, outcome: str, confirmation_failed: bool) -> str:
    seen = {s.status for s in states}
    if "delivered" in seen:
        return "reached"
    in_flight = bool(seen & {"sent", "planned"})
    if outcome == "failed" or (confirmation_failed and not in_flight):
        return "not reached"
    return "reminded" if "sent" in seen else "booked"


def _words(states) -> str:
    """``24h: delivered; 2h: not yet due (10 Dec 08:00)``."""
    parts = []
    for s in states:
        detail = f" ({s.detail})" if s.detail else ""
        parts.append(f"{s.label}: {s.status}{detail}")
    return "; ".join(parts) or "none"


def _confirmations(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    keys = {confirmation_key(i): i for i in ids}
    found = session.execute(select(Message.dedupe_key, Message.status, Message.status_reason)
                            .where(Message.dedupe_key.in_(list(keys)))) if keys else []
    return {keys[k]: (status, reason or "") for k, status, reason in found}  # noqa: C416


def _last_attempts(session: Session, ids: list[int], settings: Settings,
                   zone: ZoneInfo) -> dict[int, str]:
    """Per appointment, its newest send attempt of any reminder or confirmation."""
    keys = {}
    for i in ids:
        for key in all_keys(i, settings.reminders.offset_minutes) + [confirmation_key(i)]:
            keys[key] = i
    if not keys:
        return {}
    query = (select(Message.dedupe_key, SendAttempt.provider, SendAttempt.at)
             .join(SendAttempt, SendAttempt.message_id == Message.id)
             .where(Message.dedupe_key.in_(list(keys))).order_by(SendAttempt.id))
    last: dict[int, str] = {}
    for key, provider, at in session.execute(query):
        when = as_utc(at).astimezone(zone)
        last[keys[key]] = f"{when:%d %b %H:%M} via {provider}"
    return last


# ---- output ---------------------------------------------------------------------------

def cells(number: int, p: Person) -> list:
    """One row of the printed and exported list."""
    return [number, p.window, p.name, p.phone, p.age_group, p.dose, p.channel, p.status,
            p.reminders, ""]


def as_csv(persons: list[Person]) -> str:
    """The day list as CSV (a text cell starting ``=+-@`` is quoted so no formula runs)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["reference", *HEADER[1:-1]])
    for p in persons:
        row = [daylists._safe(c) for c in [p.reference, *cells(0, p)[1:-1]]]
        row[3] = p.phone  # E.164, digits only: no formula can hide in it
        writer.writerow(row)
    return buffer.getvalue()


def as_pdf(title: str, subtitle: str, persons: list[Person]) -> bytes:
    """The printable day list as a PDF."""
    return pdf.table_pdf(title, subtitle, HEADER, [cells(n, p) for n, p in
                                                   enumerate(persons, 1)], WIDTHS)


CALL_HEADER = ("#", "time", "name", "phone", "why not reached", "last attempt", "called",
               "note")
CALL_WIDTHS = (3, 8, 16, 11, 22, 12, 5, 18)


def call_pdf(title: str, subtitle: str, persons: list[Person]) -> bytes:
    """The call list for the ASHA worker as a PDF."""
    rows = [[n, p.window, p.name, p.phone, p.reason, p.last_attempt, "", ""]
            for n, p in enumerate(persons, 1)]
    return pdf.table_pdf(title, subtitle, CALL_HEADER, rows, CALL_WIDTHS)
