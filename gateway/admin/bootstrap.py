"""First users: ``vaxgate admin create-user`` and the demo admin ``vaxgate run`` creates."""
from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from gateway.config import Settings
from gateway.storage import Database

from .audit import record
from .auth import UserError, create_user, has_users, set_active, set_password, verify_password
from .models import AdminUser

DEMO_USERNAME = "admin"


def add_user(settings: Settings, username: str, password: str, role: str,
             district: str | None, state: str | None = None) -> str:
    """Create a user (raises auth.UserError naming the field); return a line saying so."""
    database = Database(settings.database_url)
    try:
        with database.write() as session:
            user = create_user(session, username, password, role, district, state)
            record(session, "cli", "user.create", f"user {user.username}", None,
                   {"username": user.username, "role": user.role, "district": user.district,
                    "state": user.state})
            return f"created {user.role} user {user.username!r}" + (
                f" for {user.district}, {user.state}" if user.district else "")
    finally:
        database.dispose()


def reactivate_user(settings: Settings, username: str) -> str:
    """Reactivate ``username`` and clear a lock-out (UserError when there is no such user)."""
    with _user_named(settings, username) as (session, user):
        before = {"active": user.active, "locked": user.locked_until is not None}
        set_active(user, True)
        record(session, "cli", "user.active", f"user {user.username}", before,
               {"active": True, "locked": False})
        return f"reactivated {user.username!r}; they can sign in again"


def reset_password(settings: Settings, username: str, password: str) -> str:
    """Give ``username`` a new password; their sessions end and a lock-out is cleared."""
    with _user_named(settings, username) as (session, user):
        set_password(user, password)
        record(session, "cli", "user.password", f"user {user.username}")
        note = "" if user.active else " (the account is still deactivated: " \
            f"`vaxgate admin reactivate {user.username}`)"
        return f"new password set for {user.username!r}{note}"


@contextmanager
def _user_named(settings: Settings, username: str):
    database = Database(settings.database_url)
    try:
        with database.write() as session:
            user = session.scalar(select(AdminUser).where(
                AdminUser.username == username.strip().lower()))
            if user is None:
                raise UserError("username", f"no user {username.strip().lower()!r}")
            yield session, user
    finally:
        database.dispose()


def ensure_demo_admin(settings: Settings, credentials_file: Path) -> str:
    """With no users yet, create ``admin`` with a random password kept in ``credentials_file``
    (mode 0600) so later runs can print it again; return the line to print."""
    database = Database(settings.database_url)
    try:
        with database.write() as session:
            if not has_users(session):
                password = secrets.token_urlsafe(12)
                create_user(session, DEMO_USERNAME, password, "admin")
                record(session, "vaxgate run", "user.create", f"user {DEMO_USERNAME}", None,
                       {"username": DEMO_USERNAME, "role": "admin", "demo": True})
                _keep(credentials_file, f"{DEMO_USERNAME} {password}\n")
            kept = demo_credentials(credentials_file)
            problem = kept and _kept_problem(session, *kept)
    finally:
        database.dispose()
    if kept and not problem:
        return f"admin:    sign in at /admin/ as {kept[0]} / {kept[1]}  (demo credentials)"
    if kept:
        return f"admin:    the demo admin {kept[0]!r} {problem}"
    return "admin:    sign in at /admin/ (create users with `vaxgate admin create-user`)"


def _kept_problem(session, username: str, password: str) -> str:
    """Why the kept demo credentials no longer sign in ("" when they do)."""
    user = session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        return "no longer exists (create users with `vaxgate admin create-user`)"
    if not verify_password(user, password):
        return ("has another password now (set one with "
                f"`vaxgate admin reset-password {username}`)")
    if not user.active:
        return f"was deactivated (`vaxgate admin reactivate {username}`)"
    return ""


def demo_credentials(credentials_file: Path) -> tuple[str, str] | None:
    """(username, password) of the demo admin as ``ensure_demo_admin`` kept them, or None."""
    if not credentials_file.exists():
        return None
    username, _, password = credentials_file.read_text().strip().partition(" ")
    return username, password


def _keep(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
