"""RQ job functions of the SMS worker. They only carry ledger ids; everything else is read
from SQL, through the process's job context (gateway/sms/context.py)."""
from __future__ import annotations

import gateway.wiring  # noqa: F401 - retention rules, commands: the features plug in
from gateway.sms import dispatch, sweeper
from gateway.sms.context import context, install
from gateway.sms.dispatch import SmsContext

__all__ = ["apply_retention", "context", "install", "release_turns", "send_message",
           "send_messages", "sweep"]


def send_messages(message_ids: list[int], queue: str = "notify") -> dict[str, int]:
    """Send a batch of ledger messages of ``queue``, several at once; counts per status."""
    return dispatch.send_messages(context(), list(message_ids), queue)


def send_message(message_id: int) -> dict[str, int]:
    """One message: the job of releases before batches (still in Redis after an upgrade)."""
    return dispatch.send_messages(context(), [message_id], "notify")


def sweep() -> dict[str, int]:
    """Re-enqueue from SQL whatever Redis lost; re-send unconfirmed OTPs/confirmations."""
    return sweeper.sweep(context())


def apply_retention() -> dict[str, int]:
    """Remove personal data past its retention (gateway/storage/retention.py); counts per kind."""
    from gateway.storage.retention import apply_retention as apply

    ctx = context()
    return apply(ctx.db, ctx.redis, ctx.settings.retention)


def release_turns(ctx: SmsContext | None = None) -> list[str]:
    """Admit queued callers as sessions free up, texting each that it is their turn."""
    from gateway.sessions.turns import release_turns as release

    return release(ctx or context())
