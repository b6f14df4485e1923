"""SQL storage: the system of record (SQLite in WAL mode by default, PostgreSQL in production)."""
# Tables defined beside their domain, registered on Base.metadata here.
from gateway.admin.models import AdminUser, ApiKey, AuditEntry, MenuVersion  # noqa: E402,F401
from gateway.healthworkers.models import HealthWorker, HealthWorkerAction  # noqa: E402
from gateway.reminders.models import OptOut, ReminderWatermark, WaitlistEntry  # noqa: E402
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
from gateway.upstream.models import UpstreamEvent  # noqa: E402

__all__ = [
    "SQL_INTEGER_MAX",
    "AttemptOutcome",
    "Message",
    "OptOut",
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
    "HealthWorker",
    "HealthWorkerAction",
    "PhoneProfile",
    "ReminderWatermark",
    "Slot",
    "UpstreamEvent",
    "upgrade_database",
    "WaitlistEntry",
]
