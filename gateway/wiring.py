"""Assembly: the features plug into the small registries the lower layers own.

Importing this module does the wiring once per process; ``create_app``, the ``vaxgate``
command, the worker and the tests import it. Nothing below this line imports a feature:

- their tables onto ``Base.metadata`` (Alembic and ``create_app`` see every table);
- their actions into the menu engine's action table (gateway/registry/actions.py);
- their listeners onto the registry's hooks (gateway/registry/hooks.py);
- their SMS commands into the inbound dispatcher (gateway/sms/inbound.py);
- their personal data into the retention rules (gateway/storage/retention.py).

The cron schedule is assembled at the top of the worker side, in workers/schedule.py.
"""
from __future__ import annotations

from gateway.admin import audit as admin_audit
from gateway.admin import models as admin_models  # noqa: F401 - registers the tables
from gateway.healthworkers import audit as health_worker_audit
from gateway.healthworkers import models as health_worker_models  # noqa: F401 - tables
from gateway.healthworkers.sms_commands import handle_health_worker_sms
from gateway.healthworkers.ussd_actions import HEALTH_WORKER_ACTIONS
from gateway.registry import hooks
from gateway.registry.actions import register_actions
from gateway.reminders import keys as reminder_keys
from gateway.reminders import models as reminder_models  # noqa: F401 - registers the tables
from gateway.reminders import sms_commands as citizen_commands
from gateway.reminders import ussd_actions as waitlist_actions
from gateway.sms import inbound
from gateway.storage import retention


def wire() -> None:
    """Plug every feature in (safe to call again)."""
    register_actions(HEALTH_WORKER_ACTIONS)  # health_worker.yaml
    register_actions(waitlist_actions.WAITLIST_ACTIONS)  # the waitlist screens
    hooks.add(hooks.ON_APPOINTMENT_WITHDRAWN, reminder_keys.withdraw)
    hooks.add(hooks.ON_PLACE_FREED, waitlist_actions.offer_freed_places)
    inbound.register_interceptor(handle_health_worker_sms)
    for name, handler in citizen_commands.HANDLERS.items():
        inbound.register_command(name, citizen_commands.WORDS.get(name, {}), handler)
    retention.register_rule(admin_audit.RETENTION)
    retention.register_rule(health_worker_audit.RETENTION)


wire()
