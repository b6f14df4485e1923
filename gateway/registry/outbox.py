"""Write outbox events inside the registry's own transactions.

``record_*`` only add a row to the caller's session: the event commits or rolls back with
the change it describes. Sending is the worker's business (``delivery.py``); the sweeper
finds new events in SQL, so nothing here needs Redis.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from gateway.storage.models import Appointment, Beneficiary, utcnow
from gateway.storage.outbox import EventStatus, UpstreamEvent


def record_event(session: Session, kind: str, beneficiary_id: int,
                 data: dict[str, Any]) -> int:
    """Insert one pending event for ``beneficiary_id`` now (a Core statement, not an ORM
    object flushed later: it is on every booking's path); return its id. The idempotency
    key is fixed here."""
    return session.connection().execute(_INSERT_EVENT, event_row(kind, beneficiary_id, data)
                                        ).scalar_one()


_INSERT_EVENT = insert(UpstreamEvent.__table__).returning(UpstreamEvent.__table__.c.id)


def event_row(kind: str, beneficiary_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """The column values of a new pending event (for bulk inserts, e.g. CSV imports)."""
    now = utcnow()
    key = uuid.uuid4().hex
    body = {"event": kind, "idempotency_key": key, "occurred_at": now.isoformat(),
            "beneficiary_id": beneficiary_id, "data": data}
    return {"idempotency_key": key, "beneficiary_id": beneficiary_id, "kind": kind,
            "payload": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            "status": EventStatus.PENDING.value, "attempts": 0, "last_error": "",
            "next_attempt_at": now, "created_at": now, "updated_at": now}


def beneficiary_data(person: Beneficiary) -> dict[str, Any]:
    """What the upstream registry is told about a person."""
    return {"name": person.name, "birth_year": person.birth_year, "gender": person.gender,
            "phone": person.phone, "pincode": person.pincode, "id_type": person.id_type,
            "id_last4": person.id_last4, "channel": person.channel}


def record_registration(session: Session, person: Beneficiary) -> int:
    """``beneficiary.registered`` (call after the row is flushed, so it has an id)."""
    return record_event(session, "beneficiary.registered", person.id, beneficiary_data(person))


def record_appointment(session: Session, appointment: Appointment, kind: str,
                       **extra: Any) -> int:
    """``appointment.<kind>``: booked, cancelled, rescheduled, vaccinated, no_show."""
    slot = appointment.slot
    data = {"reference": appointment.reference, "status": appointment.status,
            "dose": appointment.dose, "channel": appointment.channel,
            "center_code": slot.center.code, "date": slot.date.isoformat(),
            "start_time": slot.start_time.isoformat(timespec="minutes"),
            "vaccine": slot.vaccine, **extra}
    return record_event(session, f"appointment.{kind}", appointment.beneficiary_id, data)
