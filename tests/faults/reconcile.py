"""After a fault: wait for the stack to settle, then check what the phones were told against
the database, the fake SMS provider and the fake upstream registry.

Every acknowledged registration, booking and OTP must exist exactly once; the confirmation
SMS of every acknowledged booking and every acknowledged OTP must have reached the provider
exactly once (an OTP that expired before it could be sent: never); every upstream event of
the scenario's people must have been accepted upstream exactly once (by Idempotency-Key).
Beyond the acknowledged items, nothing may be half-written: each person has one
``beneficiary.registered`` event, each booked appointment one confirmation and one
``appointment.booked`` event, and each slot's ``booked`` counter matches its appointments.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from gateway.reminders.models import WaitlistEntry, WaitlistStatus
from gateway.storage import Appointment, Beneficiary, Database, Message, Slot, UpstreamEvent
from tests.sms.fake_provider import FakeProvider
from tests.upstream.fake_upstream import FakeUpstream

from .phones import Traffic

FINAL = ("sent", "delivered", "expired", "failed", "undelivered")
OTP_WORDS = "verification code"


@dataclass
class Reconciliation:
    """The figures of one fault run, and the names of what was lost or duplicated."""

    fault: str
    sent: int = 0
    acknowledged: int = 0
    found: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    half_written: list[str] = field(default_factory=list)
    expired_otps: int = 0
    note: str = ""

    def row(self) -> tuple:
        return (self.fault, self.sent, self.acknowledged, self.found, len(self.lost),
                len(self.duplicated), self.note)


def deliveries(fake: FakeProvider) -> Counter:
    """(phone, body) -> how many times a provider accepted it, over both providers."""
    got = Counter()
    for form in fake.twilio.delivered():
        got[(form.get("To"), form.get("Body"))] += 1
    for form in fake.africastalking.delivered():
        for phone in str(form.get("to", "")).split(","):
            got[(phone, form.get("message"))] += 1
    return got


def settle(db: Database, prefix: str, timeout: float, upstream: bool = True) -> list[str]:
    """Wait until every message of the scenario's phones is final and (with ``upstream``)
    every upstream event of its people was sent; return what is still open at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        still = open_items(db, prefix, upstream)
        if not still or time.monotonic() > deadline:
            return still
        time.sleep(0.5)


def open_items(db: Database, prefix: str, upstream: bool = True) -> list[str]:
    """Messages not final and upstream events not sent, of the scenario's phones."""
    with db.read() as session:
        messages = session.execute(select(Message.id, Message.kind, Message.status,
                                          Message.status_reason).where(
            Message.phone.startswith(prefix), Message.status.not_in(FINAL))).all()
        events = session.execute(select(UpstreamEvent.id, UpstreamEvent.kind,
                                        UpstreamEvent.status, UpstreamEvent.last_error).where(
            UpstreamEvent.status != "sent", UpstreamEvent.beneficiary_id.in_(
                select(Beneficiary.id).where(Beneficiary.phone.startswith(prefix))))).all()
    return [f"sms {m}" for m in messages] + ([f"event {e}" for e in events] if upstream else [])


def reconcile(fault: str, db: Database, traffic: Traffic, fake: FakeProvider,
              upstream: FakeUpstream | None, prefix: str) -> Reconciliation:
    """Compare the acknowledgements in ``traffic`` with what exists afterwards."""
    result = Reconciliation(fault, sent=traffic.requests, acknowledged=len(traffic.acks))
    got = deliveries(fake)
    with db.read() as session:
        for ack in traffic.acks:
            count = {"registration": _registration, "booking": _booking, "otp": _otp}[ack.kind](
                session, ack, got, result)
            _tally(result, f"{ack.kind} {ack.detail} ({ack.phone})", count)
        _half_written(session, prefix, result)
        if upstream is not None:
            _upstream(session, prefix, upstream, result)
    return result


def _tally(result: Reconciliation, name: str, count: int) -> None:
    if count == 0:
        result.lost.append(name)
    else:
        result.found += 1
        result.duplicated += [name] * (count - 1)


def _registration(session, ack, got, result) -> int:
    return session.scalar(select(func.count()).select_from(Beneficiary).where(
        Beneficiary.phone == ack.phone, Beneficiary.name == ack.detail))


def _booking(session, ack, got, result) -> int:
    """Rows with the reference; the confirmation must be in the ledger and delivered once."""
    rows = session.scalars(select(Appointment).where(Appointment.reference == ack.detail)).all()
    if len(rows) != 1 or rows[0].status != "booked":
        return len(rows) if rows and rows[0].status == "booked" else 0
    messages = session.scalars(select(Message).where(
        Message.dedupe_key == f"appointment:{rows[0].id}:booked")).all()
    sent = sum(n for (phone, body), n in got.items()
               if phone == ack.phone and ack.detail in (body or ""))
    if len(messages) != 1 or sent == 0:
        result.lost.append(f"confirmation SMS of {ack.detail}: {len(messages)} in the ledger"
                           f" ({[m.status for m in messages]}), {sent} delivered")
    result.duplicated += [f"confirmation SMS of {ack.detail} ({ack.phone})"] * max(sent - 1, 0)
    return 1


def _otp(session, ack, got, result) -> int:
    """One ledger row; delivered once, or never if it expired first."""
    messages = session.scalars(select(Message).where(
        Message.phone == ack.phone, Message.kind == "otp")).all()
    sent = sum(n for (phone, body), n in got.items()
               if phone == ack.phone and OTP_WORDS in (body or ""))
    if len(messages) == 1 and messages[0].status in ("expired", "failed") and sent == 0:
        result.expired_otps += 1  # checked by the scenario: only OTPs whose time ran out
    elif len(messages) == 1 and sent == 0:
        result.lost.append(f"OTP SMS to {ack.phone}: {messages[0].status}, never delivered")
    elif len(messages) == 1 and messages[0].status in ("expired", "failed"):
        result.half_written.append(f"OTP SMS to {ack.phone} delivered but {messages[0].status}")
    result.duplicated += [f"OTP SMS to {ack.phone}"] * max(sent - 1, 0)
    return len(messages)


def _half_written(session, prefix: str, result: Reconciliation) -> None:
    """Invariants over everything the scenario wrote, acknowledged or not."""
    people = session.scalars(select(Beneficiary).where(Beneficiary.phone.startswith(prefix)))
    for person in people:
        events = Counter(session.scalars(select(UpstreamEvent.kind).where(
            UpstreamEvent.beneficiary_id == person.id)))
        if events["beneficiary.registered"] != 1:
            result.half_written.append(f"person {person.id}: {events} upstream events")
        for appointment in person.appointments:
            confirmations = session.scalar(select(func.count()).select_from(Message).where(
                Message.dedupe_key == f"appointment:{appointment.id}:booked"))
            if confirmations != 1 or events["appointment.booked"] != len(person.appointments):
                result.half_written.append(f"appointment {appointment.reference}: "
                                           f"{confirmations} confirmations, {events}")
    # a place is taken by a booking, or held for a waitlist offer until it is claimed or
    # runs out (gateway/reminders/waitlist.py): one statement, so one snapshot of both
    appointments = select(func.count(Appointment.id)).where(
        Appointment.slot_id == Slot.id, Appointment.status == "booked").scalar_subquery()
    holds = select(func.count(WaitlistEntry.id)).where(
        WaitlistEntry.slot_id == Slot.id,
        WaitlistEntry.status == WaitlistStatus.OFFERED.value).scalar_subquery()
    slots = session.execute(select(Slot.id, Slot.booked, appointments, holds))
    result.half_written += [f"slot {sid}: booked={booked} but {count} appointments and "
                            f"{held} waitlist holds"
                            for sid, booked, count, held in slots if booked != count + held]


def _upstream(session, prefix: str, upstream: FakeUpstream, result: Reconciliation) -> None:
    """Each event of the scenario's people accepted upstream exactly once."""
    with upstream.lock:
        accepted = Counter(body["idempotency_key"] for body in upstream.accepted)
    events = session.execute(select(UpstreamEvent.idempotency_key, UpstreamEvent.kind,
                                    UpstreamEvent.status).join(
        Beneficiary, Beneficiary.id == UpstreamEvent.beneficiary_id).where(
        Beneficiary.phone.startswith(prefix))).all()
    for key, kind, status in events:
        if accepted[key] == 0 or status != "sent":
            result.lost.append(f"upstream {kind} {key[:8]}: {status}, accepted {accepted[key]}x")
        result.duplicated += [f"upstream {kind} {key[:8]}"] * max(accepted[key] - 1, 0)
