"""Who was reached: the district report, "re-send to everyone not reached", phone history.

An appointment counts as *delivered* if any of its reminders has a delivery report,
*pending* while one is planned, sent or not yet due, *failed* when the reminders sent so
far failed and none is in flight (grouped by the provider's reason), and *not sent* when
none applied (booked after it was due, quiet hours until the appointment...). Re-sends go
through the ledger with keys ``reminder:<id>:resend<n>``: an appointment already delivered
or with a re-send in flight gets nothing new, and pressing the button twice sends once. A
re-send tries the provider that failed the appointment's last reminder last.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.registry.appointments import district_phones
from gateway.reminders import planner, texts
from gateway.reminders.daylists import _batches, _bookings_query, reminder_states
from gateway.reminders.keys import MAX_RESENDS, all_keys, resend_key
from gateway.reminders.models import OptOut
from gateway.sms import outbox
from gateway.storage import Appointment, AppointmentStatus, Center, Slot
from gateway.storage.ledger import Message, MessageKind, MessageStatus, SendAttempt
from gateway.text.times import as_utc

FAILED = (MessageStatus.FAILED.value, MessageStatus.UNDELIVERED.value)


def summarise(states) -> tuple[str, str]:
    """(outcome, reason) of one appointment from its reminder states.

    A failed reminder counts as *failed* even when a later one is not yet due: that person
    has not been reached, and a re-send should not wait for the next offset.
    """
    seen = [s.status for s in states]
    if "delivered" in seen:
        return "delivered", ""
    if "planned" in seen or "sent" in seen:
        return "pending", ""
    failed = [s for s in states if s.status == "failed"]
    if failed:
        return "failed", failed[-1].detail
    if "not yet due" in seen:
        return "pending", ""
    return "not_sent", next((s.detail for s in states if s.detail), "")


def _district_bookings(session: Session, district: str, days: int, settings: Settings,
                       now: dt.datetime, state: str | None = None):
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    query = _bookings_query().join(Center, Slot.center_id == Center.id).where(
        Center.district == district, Slot.date >= today,
        Slot.date < today + dt.timedelta(days=days),
        Appointment.status == AppointmentStatus.BOOKED.value).order_by(Appointment.id)
    if state:  # a district name two states share (Aurangabad) is one of them
        query = query.where(Center.state == state)
    return today, _batches(session.execute(query.execution_options(yield_per=500)))


def district_report(session: Session, district: str, days: int, settings: Settings,
                    now: dt.datetime, state: str | None = None) -> dict:
    """Counts of delivered / failed (by reason) / pending / not sent, next ``days`` days;
    of the district of ``state`` when given (of every district so named otherwise)."""
    today, batches = _district_bookings(session, district, days, settings, now, state)
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for batch in batches:
        for states in reminder_states(session, batch, settings, now).values():
            outcome, reason = summarise(states)
            outcomes[outcome] += 1
            if outcome in ("failed", "not_sent"):
                reasons[f"{outcome}: {reason or 'unknown'}"] += 1
    return {"district": district, "state": state, "from": today.isoformat(),
            "to": (today + dt.timedelta(days=days - 1)).isoformat(),
            "appointments": sum(outcomes.values()),
            **{k: outcomes.get(k, 0) for k in ("delivered", "pending", "failed", "not_sent")},
            "reasons": dict(reasons.most_common())}


def resend_not_reached(session: Session, district: str, days: int, settings: Settings,
                       now: dt.datetime, state: str | None = None) -> list[int]:
    """Record a new reminder for every appointment whose reminders all failed; their ids."""
    _, batches = _district_bookings(session, district, days, settings, now, state)
    zone = ZoneInfo(settings.timezone)
    failed = [appointment_id for batch in batches
              for appointment_id, states in reminder_states(session, batch, settings, now).items()
              if summarise(states)[0] == "failed"]
    offsets = settings.reminders.offset_minutes
    return [mid for mid in (_resend(session, appointment_id, zone, offsets)
                            for appointment_id in failed) if mid is not None]


def resend_to(session: Session, appointment_id: int, settings: Settings,
              also_failed: tuple[str, ...] = ()) -> int | None:
    """Record one re-sent reminder for one appointment (the console's "resend" on a person
    not reached); its message id, or None when opted out or re-sent too often. The provider
    that failed its reminders or ``also_failed`` (e.g. its confirmation) last goes last."""
    offsets = settings.reminders.offset_minutes
    return _resend(session, appointment_id, ZoneInfo(settings.timezone), offsets,
                   list(also_failed))


def _resend(session: Session, appointment_id: int, zone: ZoneInfo,
            offsets: list[int], also_failed: list[str] | None = None) -> int | None:
    appointment = session.get(Appointment, appointment_id)
    person, slot = appointment.beneficiary, appointment.slot
    if session.get(OptOut, person.phone) is not None:
        return None
    done = session.scalars(select(Message.dedupe_key).where(Message.dedupe_key.in_(
        [resend_key(appointment_id, n) for n in range(1, MAX_RESENDS + 1)]))).all()
    if len(done) >= MAX_RESENDS:
        return None
    body = texts.render("reminder", person.language, name=person.name, date=slot.date,
                        window=(slot.start_time, slot.end_time), center=slot.center.name,
                        reference=appointment.reference)
    message = outbox.record_message(
        session, phone=person.phone, kind=MessageKind.REMINDER, body=body,
        lang=person.language, dedupe_key=resend_key(appointment_id, len(done) + 1),
        budget=None,  # an officer asked for it (at most MAX_RESENDS per appointment)
        expires_at=planner.appointment_start(slot.date, slot.start_time, zone))
    message.try_last = _failed_last_by(session, all_keys(appointment_id, offsets)
                                       + (also_failed or []))
    return message.id


def _failed_last_by(session: Session, keys: list[str]) -> str | None:
    """The provider of the most recently failed of these reminders (None: none was sent)."""
    return session.scalar(select(Message.provider).where(
        Message.dedupe_key.in_(keys), Message.status.in_(FAILED), Message.provider.is_not(None))
        .order_by(Message.updated_at.desc(), Message.id.desc()).limit(1))


def phone_messages(phone: str, district: str | None = None, state: str | None = None):
    """A SELECT of the messages to ``phone``; with ``district`` (of ``state``), none unless
    the phone has an appointment there (a district sees only its people). The caller pages
    it."""
    query = select(Message).where(Message.phone == phone)
    if district:
        phones = district_phones(district, state)
        query = query.where(Message.phone.in_(phones))
    return query


def phone_history(session: Session, messages: Sequence[Message]) -> list[dict]:
    """``messages`` as the phone history shows them, each with every send attempt."""
    attempts: dict[int, list[SendAttempt]] = {}
    for attempt in session.scalars(select(SendAttempt).where(
            SendAttempt.message_id.in_([m.id for m in messages])).order_by(SendAttempt.id)):
        attempts.setdefault(attempt.message_id, []).append(attempt)
    return [{"id": m.id, "kind": m.kind, "body": m.body if m.kind != "otp" else "(OTP)",
             "lang": m.lang, "status": m.status, "reason": m.status_reason,
             "provider": m.provider, "segments": m.segments, "created_at": _iso(m.created_at),
             "sent_at": _iso(m.sent_at), "delivered_at": _iso(m.delivered_at),
             "attempts": [{"provider": a.provider, "outcome": a.outcome,
                           "error_code": a.error_code, "error": a.error,
                           "latency_ms": a.latency_ms, "at": _iso(a.at)}
                          for a in attempts.get(m.id, [])]}
            for m in messages]


def _iso(value: dt.datetime | None) -> str | None:
    utc = as_utc(value)
    return utc.isoformat() if utc else None

