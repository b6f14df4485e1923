"""Admin users: argon2 passwords, lock-out after repeated failures, roles and district scope.

Roles: ``admin`` (everything), ``district`` (only their district, of its state), ``viewer``
(read-only; scoped to a district when one is set). Plain functions on a SQLAlchemy session,
used by the console, the API and ``vaxgate admin create-user``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session

from gateway.config import AdminSettings
from gateway.geo import places
from gateway.text.times import as_utc

from .models import AdminUser, Role

HASHER = PasswordHasher()
_DUMMY_HASH = HASHER.hash("not-a-real-password")  # equal time for unknown usernames
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,59}$")
MIN_PASSWORD = 10


class UserError(ValueError):
    """Bad input for a user; ``field`` names it, ``suggestions`` are close valid values."""

    def __init__(self, field: str, message: str, suggestions: list[str] | None = None):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.suggestions = suggestions or []


# What an API key may do. A role bounds its scopes; a new key gets its role's defaults
# (never otp:send, which costs money per call and must be asked for).
SCOPES = ("read", "write", "otp:send")
ROLE_SCOPES = {"admin": frozenset(SCOPES), "district": frozenset(SCOPES),
               "viewer": frozenset({"read"})}
DEFAULT_SCOPES = {"admin": ("read", "write"), "district": ("read", "write"),
                  "viewer": ("read",)}


@dataclass(frozen=True)
class Principal:
    """Who is acting (a signed-in user or an API key) and what they may touch."""

    name: str
    role: str
    district: str | None = None
    scopes: frozenset[str] = frozenset()
    state: str | None = None  # the district's; None for a row named before migration 0014

    @property
    def can_write(self) -> bool:
        return self.role in (Role.ADMIN.value, Role.DISTRICT.value)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def scope(self) -> str | None:
        """The only district this principal sees, or None for all of them."""
        return None if self.is_admin else self.district

    @property
    def scope_state(self) -> str | None:
        """The state of ``scope``; None when unscoped or for a row without a state, which
        then sees that district name in every state (as before states were stored)."""
        return self.state if self.scope else None

    @property
    def place(self) -> str:
        """Where the scope is, for messages: "Aurangabad, Bihar" (no state: the district)."""
        return ", ".join(p for p in (self.scope, self.scope_state) if p)

    def sees(self, state: str | None, district: str | None) -> bool:
        """Whether a record in (state, district) is within this principal's scope."""
        if not self.scope:
            return True
        return district == self.scope and (not self.scope_state or state == self.scope_state)

    def within(self, state_column, district_column) -> ColumnElement[bool]:
        """The SQL condition ``sees`` is, over a table's state and district columns."""
        if not self.scope:
            return true()
        if not self.scope_state:
            return district_column == self.scope
        return and_(district_column == self.scope, state_column == self.scope_state)


def principal_of(user: AdminUser) -> Principal:
    """A signed-in console user acts with every scope of their role."""
    return Principal(user.username, user.role, user.district,
                     ROLE_SCOPES.get(user.role, frozenset()), user.state)


def check_scopes(role: str, scopes: list[str] | None) -> tuple[str, ...]:
    """The scopes of a new key of ``role`` (its defaults when None); UserError naming the
    field when one is unknown or beyond the role."""
    if scopes is None:
        return DEFAULT_SCOPES.get(role, ())
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise UserError("scopes", f"unknown {unknown}; choose from {', '.join(SCOPES)}")
    beyond = sorted(set(scopes) - ROLE_SCOPES.get(role, frozenset()))
    if beyond:
        raise UserError("scopes", f"a {role} key cannot have {beyond}")
    return tuple(s for s in SCOPES if s in scopes)


def check_role(role: str, district: str | None) -> None:
    """Raise UserError unless the role exists and a district user names a district."""
    if role not in {r.value for r in Role}:
        raise UserError("role", f"must be one of {', '.join(r.value for r in Role)}")
    if role == Role.DISTRICT.value and not (district or "").strip():
        raise UserError("district", "a district user needs a district")


def directory_place(session: Session, state: str | None,
                    district: str | None) -> tuple[str | None, str | None]:
    """(state, district) as India Post's directory spells them ((None, None) for no
    district); UserError naming the field, with close names, for a name it does not have.
    Without a state, the district's own is taken when only one state has that name."""
    if not (district or "").strip():
        if (state or "").strip():
            raise UserError("district", f"pick a district of {state.strip()}, or no state")
        return None, None
    try:
        if (state or "").strip():
            found_state, found = places.district_named(session, state, district)
            return found_state.name, found.name
        name = places.any_district_named(session, district).name
    except places.UnknownPlace as exc:
        raise UserError(exc.field, str(exc), exc.suggestions) from None
    states = places.states_with_district(session, name)
    if len(states) > 1:
        raise UserError("state", f"{name} is a district of {' and of '.join(states)}: "
                        "name its state", states)
    return states[0], name


def create_user(session: Session, username: str, password: str, role: str,
                district: str | None = None, state: str | None = None) -> AdminUser:
    """Add a user with an argon2-hashed password (raises UserError naming the field)."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise UserError("username", "2-60 characters: letters, digits, . _ @ -")
    if len(password) < MIN_PASSWORD:
        raise UserError("password", f"at least {MIN_PASSWORD} characters")
    check_role(role, district)
    state, district = directory_place(session, state, district)
    if session.scalar(select(AdminUser.id).where(AdminUser.username == username)):
        raise UserError("username", "already taken")
    user = AdminUser(username=username, password_hash=HASHER.hash(password), role=role,
                     district=district, state=state, active=True, failed_logins=0)
    session.add(user)
    session.flush()
    return user


def has_users(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(AdminUser)))


def authenticate(session: Session, username: str, password: str, settings: AdminSettings,
                 now: dt.datetime | None = None) -> tuple[AdminUser | None, str]:
    """(user, "") on success; (None, reason) with reason "locked", "deactivated" (the right
    password of a deactivated account) or "invalid" otherwise."""
    now = now or dt.datetime.now(dt.UTC)
    user = session.scalar(select(AdminUser).where(
        AdminUser.username == username.strip().lower()).with_for_update())
    if user is None:
        _verify(_DUMMY_HASH, password)
        return None, "invalid"
    if not user.active:  # told only to whoever knows the password: names no account
        return None, "deactivated" if _verify(user.password_hash, password) else "invalid"
    if user.locked_until and as_utc(user.locked_until) > now:
        _verify(user.password_hash, password)  # every path hashes once: timing names no account
        return None, "locked"
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= settings.max_failed_logins:
            user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
            return None, "locked"
        return None, "invalid"
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return user, ""


def set_password(user: AdminUser, password: str) -> None:
    """A new password; every session signed in with the old one ends."""
    if len(password) < MIN_PASSWORD:
        raise UserError("password", f"at least {MIN_PASSWORD} characters")
    user.password_hash = HASHER.hash(password)
    user.failed_logins, user.locked_until = 0, None
    end_sessions(user)


def deactivation_refused(session: Session, actor_id: int | None, user: AdminUser) -> str:
    """Why ``user`` may not be deactivated by the user ``actor_id`` ("" when they may):
    nobody deactivates themself, and the last active admin stays."""
    if actor_id is not None and user.id == actor_id:
        return "You cannot deactivate your own account: ask another admin."
    if user.role == Role.ADMIN.value and user.active and active_admins(session) <= 1:
        return (f"{user.username} is the last active admin: add or reactivate another admin "
                "first.")
    return ""


def active_admins(session: Session) -> int:
    """How many active users have the admin role."""
    return session.scalar(select(func.count()).select_from(AdminUser).where(
        AdminUser.role == Role.ADMIN.value, AdminUser.active.is_(True))) or 0


def set_active(user: AdminUser, active: bool) -> None:
    """(Re)activate or deactivate ``user``; either clears a lock-out, deactivating ends
    every session."""
    user.active = active
    user.failed_logins, user.locked_until = 0, None
    if not active:
        end_sessions(user)


def end_sessions(user: AdminUser) -> None:
    """End every console session of ``user`` on the server (cookies copied before too)."""
    user.session_epoch = (user.session_epoch or 0) + 1


def verify_password(user: AdminUser, password: str) -> bool:
    """Whether ``password`` is ``user``'s (no lock-out counting: for the command line)."""
    return _verify(user.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
