"""A client-side deadline on every PostgreSQL round trip (psycopg2).

``statement_timeout`` and ``lock_timeout`` are enforced by the server: they cannot help when
the server never sees the query — a dead network, a failed-over primary whose address now
leads nowhere, a stuck connection pooler. Then a blocking psycopg2 call waits on its socket
until TCP gives up (minutes), the USSD step outlives the aggregator's budget and gunicorn
kills the worker. So the engine's connections run in psycopg2's "green" mode with the wait
callback below: the same blocking API, but every wait on the socket is a ``poll`` bounded by
the connection's deadline, after which the call fails with an ``OperationalError`` that
SQLAlchemy recognises as a disconnect (the connection is thrown away, not reused).

A request may also set an overall deadline (:func:`within`): a USSD step has one budget for
all its database round trips, pool pre-ping and reconnect included.

The callback is process-wide (psycopg2 has one); a connection made without a deadline
(another library's) waits forever, as plain psycopg2 would.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import select
import time
from collections.abc import Iterator

import psycopg2
from psycopg2 import extensions

# SQLAlchemy's psycopg2 dialect treats an error containing this text as a disconnect
DISCONNECT_TEXT = "could not receive data from server"
_REQUEST_ENDS: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "pg_request_ends", default=None)


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Every PostgreSQL round trip inside the block ends by ``seconds`` from now."""
    token = _REQUEST_ENDS.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _REQUEST_ENDS.reset(token)


@functools.cache
def deadline_connection(deadline_s: float) -> type:
    """A psycopg2 connection class whose round trips give up after ``deadline_s``."""
    return type(f"DeadlineConnection{int(deadline_s * 1000)}ms", (extensions.connection,),
                {"deadline_s": deadline_s})


def wait_with_deadline(conn) -> None:
    """psycopg2 wait callback: ``psycopg2.extras.wait_select`` with the connection's deadline."""
    deadline_s = getattr(conn, "deadline_s", None)
    ends = time.monotonic() + deadline_s if deadline_s else None
    request_ends = _REQUEST_ENDS.get()
    if request_ends is not None and (ends is None or request_ends < ends):
        ends = request_ends
    poller = select.poll()  # not select.select: file descriptors past 1024 under load
    registered = None
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        events = {extensions.POLL_READ: select.POLLIN,
                  extensions.POLL_WRITE: select.POLLOUT}.get(state)
        if events is None:
            raise psycopg2.OperationalError(f"bad state from poll: {state}")
        if registered != events:
            poller.register(conn.fileno(), events)
            registered = events
        if ends is None:
            poller.poll()
            continue
        left = ends - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            if time.monotonic() >= ends:
                raise psycopg2.OperationalError(
                    f"{DISCONNECT_TEXT}: no answer before the client's deadline")


def install() -> None:
    """Route psycopg2's blocking waits through :func:`wait_with_deadline` (idempotent)."""
    if extensions.get_wait_callback() is not wait_with_deadline:
        extensions.set_wait_callback(wait_with_deadline)
