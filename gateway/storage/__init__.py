"""SQL storage: the system of record (SQLite in WAL mode by default, PostgreSQL in production).

The core tables live here; features (admin, health workers, reminders) define theirs beside
their code on the same ``Base.metadata``, and ``gateway.wiring`` imports them.
"""
from gateway.storage.database import (
    Database,
    attach,
    dialect_insert,
    prepared,
    upgrade_database,
)
from gateway.storage.ledger import (
    AttemptOutcome,
    Message,
    MessageKind,
    MessageStatus,
    SandboxMessage,
    SendAttempt,
)
from gateway.storage.models import (
    SQL_INTEGER_MAX,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Base,
    Beneficiary,
    Center,
    PhoneProfile,
    Slot,
)
from gateway.storage.outbox import UpstreamEvent

__all__ = [
    "SQL_INTEGER_MAX",
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
    "attach",
    "dialect_insert",
    "prepared",
    "PhoneProfile",
    "Slot",
    "UpstreamEvent",
    "upgrade_database",
]
