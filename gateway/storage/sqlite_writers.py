"""SQLite writers queue on a lock file instead of SQLite's busy handler.

SQLite lets one connection write at a time. A second writer's ``BEGIN IMMEDIATE`` is
refused and retried by SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 ... ms
between tries: a write that had to wait 2 ms for the lock waits 3 or 8, and under load
every request pays that sleep.

Here a writer first takes a lock shared by every process using the same database file: a
thread lock (wakes the next thread at release) and then ``flock`` on ``<database>-writers``,
polled every ``POLL_S`` (``flock`` cannot wait with a timeout). A writer that has waited
the database's busy timeout for it fails as SQLite would have ("database is locked", an
OperationalError: a USSD step answers "try again"); one that cannot open the lock file goes
on to SQLite's own handler. The lock only orders writers: SQLite's lock still guards the
data, and a writer that does not use it (the sqlite3 shell, a migration) still makes the
others wait in SQLite's handler, for at most the busy timeout more.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError

POLL_S = 0.0005


class WriterLock:
    """One per Database (per process): writers of all processes on the file queue here.

    gateway/storage/database.py takes it when a write transaction begins (the ``BEGIN
    IMMEDIATE`` of the connection, not the opening of the session: a write session opened
    around another that runs first must not wait for itself) and gives it back when the
    connection returns to the pool, after the commit or rollback."""

    def __init__(self, path: str, timeout_s: float):
        self.path = f"{path}-writers"
        self.timeout_s = timeout_s
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def acquire(self) -> bool:
        """Wait for the lock (raises OperationalError after the busy timeout); returns whether
        the lock file is held too (False: no lock file to be had, SQLite's handler alone)."""
        deadline = time.monotonic() + self.timeout_s
        if not self._thread_lock.acquire(timeout=self.timeout_s):
            raise _locked()
        try:
            return self._flock(deadline) is not None
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self, flocked: bool) -> None:
        if flocked:
            fcntl.flock(self._file(), fcntl.LOCK_UN)
        self._thread_lock.release()

    @contextmanager
    def held(self) -> Iterator[bool]:
        """The lock around a block; yields whether the lock file is held too."""
        flocked = self.acquire()
        try:
            yield flocked
        finally:
            self.release(flocked)

    def _flock(self, deadline: float) -> int | None:
        """The locked descriptor, or None when there is no lock file to be had."""
        try:
            fd = self._file()
        except OSError:  # a read-only folder: SQLite's handler alone, as before
            return None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise _locked() from None
                time.sleep(POLL_S)

    def _file(self) -> int:
        """The lock file's descriptor, opened again in a forked child (a lock held through a
        descriptor shared with the parent would be the parent's too)."""
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd


def _locked() -> OperationalError:
    """What SQLite's busy handler raises when it gives up, so callers need no new case."""
    return OperationalError("BEGIN IMMEDIATE", None,
                            sqlite3.OperationalError("database is locked (writers queued)"))
