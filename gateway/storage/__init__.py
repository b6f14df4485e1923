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

# Tables defined beside their domain, registered on Base.metadata here.
from gateway.healthworkers.models import HealthWorker, HealthWorkerAction  # noqa: E402
from gateway.reminders.models import OptOut, ReminderWatermark, WaitlistEntry  # noqa: E402
from gateway.upstream.models import UpstreamEvent  # noqa: E402

__all__ = [
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
    "HealthWorker",
    "HealthWorkerAction",
    "PhoneProfile",
    "ReminderWatermark",
    "Slot",
    "UpstreamEvent",
    "upgrade_database",
    "WaitlistEntry",
]
