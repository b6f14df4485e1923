"""The worker process's job context: RQ carries only ids, so a job finds settings, database,
Redis and providers here.

``vaxgate worker`` installs its :class:`SmsContext` with :func:`install`; a plain ``rq
worker`` builds one lazily from the environment (``VAXGATE_CONFIG``,
``VAXGATE_DATABASE_URL``, ``VAXGATE_SECRET_KEY``, ``VAXGATE_SESSION_REDIS_URL``) and the job's
own Redis connection.
"""
from __future__ import annotations

import redis
from rq import get_current_job

from gateway.config import load_settings
from gateway.infra.redis_clients import connect_redis, connect_redis_pair
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
