"""Health-worker accounts: create, find by phone, PIN on first use, lock-out, unlock.

PINs are 4-6 digits, stored only as an Argon2id hash (argon2-cffi). ``max_pin_failures``
wrong PINs in a row lock the account for ``lock_minutes``; admins see the lock and can end
it early. A correct PIN resets the count. Across locks, ``max_pin_failures_per_day`` wrong
PINs in 24 hours (a Redis counter, :func:`daily_failures`) lock it until those 24 hours end,
so a patient guesser gets at most that many tries a day, not five every half hour. The
caller is the account (a worker signs in from her own phone), so this is also the per-source
limit.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from gateway.config import HealthWorkerSettings
from gateway.flows.validators import VALIDATORS
from gateway.healthworkers.models import HealthWorker
from gateway.infra.attempts import FailureCounter
from gateway.registry.errors import InvalidField, NotFound
from gateway.storage.fast_read import FastRead
from gateway.storage.models import Center, utcnow
from gateway.text.phones import InvalidPhone, parse_phone
from gateway.text.times import as_utc

PIN = re.compile(r"^\d{4,6}$")
_hasher = PasswordHasher()
DAY_S = 24 * 3600


@dataclass(frozen=True)
class PinCheck:
    """The verdict on one PIN: ok, or how many tries are left / until when it is locked."""

    ok: bool
    tries_left: int = 0
    locked_until: dt.datetime | None = None


def create(session: Session, *, name: str, phone: str, center_code: str,
           district: str | None = None) -> HealthWorker:
    """Add a worker; raises InvalidField naming the field (name, phone, center_code)."""
    clean = VALIDATORS["name"].check(name, {}, {}).value
    if clean is None:
        raise InvalidField("name", "2-40 letters, spaces, dots or apostrophes")
    try:
        phone = parse_phone(phone)
    except InvalidPhone as exc:
        raise InvalidField("phone", str(exc)) from None
    center = session.scalar(select(Center).where(Center.code == center_code.strip()))
    if center is None:
        raise InvalidField("center_code", f"no center with code {center_code!r}")
    if session.scalar(select(HealthWorker.id).where(HealthWorker.phone == phone)):
        raise InvalidField("phone", "a health worker with this phone already exists")
    worker = HealthWorker(name=clean, phone=phone, center_id=center.id,
                          district=(district or center.district).strip()[:40],
                          failed_pins=0, active=True)
    session.add(worker)
    session.flush()
    return worker


_ACTIVE_ON_PHONE = FastRead(select(HealthWorker.id).where(
    HealthWorker.phone == bindparam("phone"), HealthWorker.active.is_(True)))


def is_worker_phone(where, phone: str) -> bool:
    """True when an active worker uses this phone (``where``: a Database or a Session): every
    USSD first screen asks, and almost every answer is no."""
    return _ACTIVE_ON_PHONE.scalar(where, phone=phone) is not None


def by_phone(session: Session, phone: str) -> HealthWorker | None:
    """The active worker using this E.164 phone, if any."""
    return session.scalar(select(HealthWorker).where(HealthWorker.phone == phone,
                                                     HealthWorker.active.is_(True)))


def get(session: Session, worker_id: int) -> HealthWorker:
    worker = session.get(HealthWorker, worker_id)
    if worker is None:
        raise NotFound(f"no health worker {worker_id}")
    return worker


def locked_until(worker: HealthWorker, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the lock ends, or None if the account is not locked now."""
    until = as_utc(worker.locked_until)
    return until if until and until > (now or utcnow()) else None


def set_pin(session: Session, worker: HealthWorker, pin: str) -> None:
    """Set the PIN (first use). Raises InvalidField unless it is 4-6 digits."""
    if not PIN.match(pin or ""):
        raise InvalidField("pin", "must be 4 to 6 digits")
    worker.pin_hash = _hasher.hash(pin)
    worker.failed_pins, worker.locked_until = 0, None
    session.flush()


def daily_failures(conn, rules: HealthWorkerSettings) -> FailureCounter:
    """The 24-hour wrong-PIN counter per account (kept in Redis)."""
    return FailureCounter(conn, "vaxgate:hw:pin-failures", rules.max_pin_failures_per_day, DAY_S)


def check_pin(session: Session, worker: HealthWorker, pin: str,
              rules: HealthWorkerSettings, now: dt.datetime | None = None,
              daily: FailureCounter | None = None) -> PinCheck:
    """Verify ``pin``; count failures and lock after ``rules.max_pin_failures`` in a row,
    or (with ``daily``) after ``rules.max_pin_failures_per_day`` in 24 hours."""
    now = now or utcnow()
    if locked_until(worker, now):
        return PinCheck(False, 0, locked_until(worker, now))
    if worker.pin_hash and _matches(worker.pin_hash, pin):
        worker.failed_pins, worker.locked_until = 0, None
        return PinCheck(True)
    worker.failed_pins += 1
    left = rules.max_pin_failures - worker.failed_pins
    day_wait = daily.retry_after(str(worker.id)) if daily and daily.fail(str(worker.id)) else 0
    if left <= 0 or day_wait:
        worker.failed_pins = 0
        lock = max(dt.timedelta(minutes=rules.lock_minutes if left <= 0 else 0),
                   dt.timedelta(seconds=day_wait))
        worker.locked_until = now + lock
        return PinCheck(False, 0, worker.locked_until)
    return PinCheck(False, left)


def unlock(session: Session, worker_id: int, daily: FailureCounter | None = None
           ) -> HealthWorker:
    """End a lock early and reset the failure counts: the one in a row, and with ``daily``
    the 24-hour one too (else the next wrong PIN would lock the account again until the
    day's window ends, though an admin had just given it a fresh start)."""
    worker = get(session, worker_id)
    worker.failed_pins, worker.locked_until = 0, None
    if daily is not None:
        daily.reset(str(worker.id))
    return worker


def list_all(session: Session) -> list[HealthWorker]:
    return list(session.scalars(select(HealthWorker).order_by(HealthWorker.id)))


def describe(session: Session, worker: HealthWorker, now: dt.datetime | None = None,
             ) -> dict[str, Any]:
    """The admin's view of an account (no PIN hash)."""
    until = locked_until(worker, now)
    center = session.get(Center, worker.center_id)
    return {"id": worker.id, "name": worker.name, "phone": worker.phone,
            "center_code": center.code if center else None,
            "center_name": center.name if center else None, "district": worker.district,
            "active": worker.active, "pin_set": worker.pin_hash is not None,
            "failed_pins": worker.failed_pins, "locked": until is not None,
            "locked_until": until.isoformat() if until else None}


def _matches(pin_hash: str, pin: str) -> bool:
    try:
        return _hasher.verify(pin_hash, pin or "")
    except (VerificationError, InvalidHashError):
        return False
