"""SQL tables of the admin console: users, API keys, published menu versions, audit log."""
from __future__ import annotations

import datetime as dt
from enum import Enum

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.storage.models import Base, utcnow


class Role(str, Enum):
    ADMIN = "admin"  # everything
    DISTRICT = "district"  # only their district's centers, slots, lists and messages
    VIEWER = "viewer"  # read-only


class AdminUser(Base):
    """A person who signs in to /admin/. The password is kept as an argon2 hash."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12))
    district: Mapped[str | None] = mapped_column(String(40))
    # None for a district named before the directory told the states apart (migration 0014)
    state: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # signed into every session cookie; raising it ends every session of this user
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiKey(Base):
    """A key for /api/v1. Only its SHA-256 is stored; ``prefix`` finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(12), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(12))
    district: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str | None] = mapped_column(String(40))  # None: as for AdminUser.state
    scopes: Mapped[str] = mapped_column(String(60), default="read")  # space-separated
    created_by: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MenuVersion(Base):
    """One published set of menu files (JSON {filename: yaml}); the newest row is live."""

    __tablename__ = "menu_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(12), index=True)  # FlowSet.version
    files: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """One admin change: who, what, and the record before and after (JSON)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(120), default="")
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
