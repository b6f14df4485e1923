"""RQ job functions. They only carry ledger ids; everything else is read from SQL.

The worker installs its :class:`SmsContext` with :func:`install`; a plain ``rq worker``
builds one lazily from the environment (``VAXGATE_CONFIG``, ``VAXGATE_DATABASE_URL``,
``VAXGATE_SECRET_KEY``, ``VAXGATE_SESSION_REDIS_URL``) and the job's own Redis connection.
"""
from __future__ import annotations

import redis
from rq import get_current_job

from gateway.config import load_settings
from gateway.runtime import connect_redis, connect_redis_pair
from gateway.sms import dispatch, sweeper
from gateway.sms.dispatch import SmsContext
from gateway.storage import Database

_context: SmsContext | None = None


def install(ctx: SmsContext | None) -> None:
    """Use ``ctx`` for every job in this process (None: build lazily again)."""
    global _context
    _context = ctx


def context() -> SmsContext:
    """The installed context, or one built from the environment on first use."""
    global _context
    if _context is None:
        settings = load_settings()
        _context = SmsContext.build(settings, Database(settings.database_url),
                                    *_connections(settings))
    return _context


def _connections(settings) -> tuple[redis.Redis, redis.Redis]:
    """(session, queue) Redis: the queue one is the job's own connection when there is one."""
    job = get_current_job()
    if job is None:
        return connect_redis_pair(settings)
    session_url = settings.redis_url_for("session")
    if not session_url or session_url == settings.redis_url_for("queue"):
        return job.connection, job.connection
    return connect_redis(session_url), job.connection


def send_message(message_id: int) -> str:
    """Send one ledger message through the first provider that accepts it."""
    return dispatch.send_message(context(), message_id)


def sweep() -> dict[str, int]:
    """Re-enqueue from SQL whatever Redis lost; re-send unconfirmed OTPs/confirmations."""
    return sweeper.sweep(context())


def apply_retention() -> dict[str, int]:
    """Remove personal data past its retention (gateway/retention.py); counts per kind."""
    from gateway.retention import apply_retention as apply

    ctx = context()
    return apply(ctx.db, ctx.redis, ctx.settings.retention)


def release_turns(ctx: SmsContext | None = None) -> list[str]:
    """Admit queued callers as sessions free up, texting each that it is their turn."""
    from gateway.admission_turns import release_turns as release

    return release(ctx or context())
