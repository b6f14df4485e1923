"""API keys for /api/v1: random, shown once, stored as SHA-256, scoped by role, district (of
a state) and scopes (read, write, otp:send; gateway/admin/auth.py ``SCOPES``).

A key looks like ``vx_<8-char prefix>_<secret>``; the prefix finds the row, the hash is
compared in constant time. Keys are long and random, so a fast hash is the right one here.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.admin.auth import Principal, check_role, check_scopes, directory_place
from gateway.admin.models import ApiKey

PREFIX_CHARS = 8


def create_key(session: Session, name: str, role: str, district: str | None,
               created_by: str, scopes: list[str] | None = None,
               state: str | None = None) -> tuple[ApiKey, str]:
    """A new key row and the key itself (only ever returned here); ``scopes`` default to
    the role's (gateway/admin/auth.py ``DEFAULT_SCOPES``)."""
    check_role(role, district)
    state, district = directory_place(session, state, district)
    granted = check_scopes(role, scopes)
    prefix = secrets.token_hex(PREFIX_CHARS // 2)
    key = f"vx_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(name=name.strip()[:60] or "unnamed", prefix=prefix, key_hash=_digest(key),
                 role=role, district=district, state=state,
                 scopes=" ".join(granted), created_by=created_by)
    session.add(row)
    session.flush()
    return row, key


def principal_for_key(session: Session, key: str) -> Principal | None:
    """The principal a presented key acts as, or None for an unknown or revoked key."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "vx" or len(parts[1]) != PREFIX_CHARS:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _digest(key)):
        return None
    return Principal(f"api-key:{row.name}", row.role, row.district,
                     frozenset((row.scopes or "").split()), row.state)


def revoke_key(session: Session, key_id: int) -> ApiKey | None:
    row = session.get(ApiKey, key_id)  # the router refuses ids past SQL INTEGER
    if row is not None and row.revoked_at is None:
        row.revoked_at = dt.datetime.now(dt.UTC)
    return row


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
