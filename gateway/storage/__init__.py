"""SQL storage: the system of record (SQLite in WAL mode by default, PostgreSQL in production)."""
from gateway.storage.database import Database, upgrade_database
from gateway.admin import models as _admin_models  # noqa: F401,I001 - registers the admin tables
from gateway.storage.ledger import (
    AttemptOutcome,
    Message,
    MessageKind,
    MessageStatus,
    SandboxMessage,
    SendAttempt,
)
from gateway.storage.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Base,
    Beneficiary,
    Center,
    PhoneProfile,
    Slot,
)

__all__ = [
    "AttemptOutcome",
    "Message",
    "MessageKind",
    "MessageStatus",
    "SandboxMessage",
    "SendAttempt",
    "Appointment",
    "AppointmentEvent",
    "AppointmentStatus",
    "Base",
    "Beneficiary",
    "Center",
    "Database",
    "PhoneProfile",
    "Slot",
    "upgrade_database",
]
