"""First users: ``vaxgate admin create-user`` and the demo admin ``vaxgate run`` creates."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from gateway.config import Settings
from gateway.storage import Database

from .audit import record
from .auth import create_user, has_users

DEMO_USERNAME = "admin"


def add_user(settings: Settings, username: str, password: str, role: str,
             district: str | None) -> str:
    """Create a user (raises auth.UserError naming the field); return a line saying so."""
    database = Database(settings.database_url)
    try:
        with database.write() as session:
            user = create_user(session, username, password, role, district)
            record(session, "cli", "user.create", f"user {user.username}", None,
                   {"username": user.username, "role": user.role, "district": user.district})
            return f"created {user.role} user {user.username!r}" + (
                f" for {user.district}" if user.district else "")
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
    finally:
        database.dispose()
    kept = demo_credentials(credentials_file)
    if kept:
        return f"admin:    sign in at /admin/ as {kept[0]} / {kept[1]}  (demo credentials)"
    return "admin:    sign in at /admin/ (create users with `vaxgate admin create-user`)"


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
