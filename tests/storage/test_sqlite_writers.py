"""Writers of every process on one SQLite file queue on its lock file (sqlite_writers.py)."""
from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from gateway.storage.sqlite_writers import WriterLock


def _hold_in_child(path: str, seconds: float, ready, done) -> None:
    lock = WriterLock(path, timeout_s=5)
    with lock.held() as got:
        assert got
        ready.set()
        time.sleep(seconds)
        done.set()  # the last thing of its "transaction", before it lets go


@pytest.fixture
def lock_path(tmp_path):
    return str(tmp_path / "vaxgate.db")


def test_a_writer_of_another_process_waits_for_the_holder_then_goes_at_once(lock_path):
    context = multiprocessing.get_context("spawn")
    ready, done = context.Event(), context.Event()
    child = context.Process(target=_hold_in_child, args=(lock_path, 1.0, ready, done))
    child.start()
    try:
        assert ready.wait(30), "the child never took the lock"
        with WriterLock(lock_path, timeout_s=10).held() as got:
            assert got
            assert done.is_set(), "got the lock while another process held it"
    finally:
        child.join(10)
    assert child.exitcode == 0


def test_threads_of_one_process_take_turns(lock_path):
    lock, inside, overlaps = WriterLock(lock_path, timeout_s=10), [], []

    def write() -> None:
        with lock.held() as got:
            assert got
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(len(inside))
            time.sleep(0.01)
            inside.pop()

    threads = [threading.Thread(target=write) for _ in range(8)]  # 80 ms of writes, 10 s wait
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert overlaps == []


def test_a_writer_that_waited_its_timeout_fails_as_sqlite_would(lock_path):
    """Past the busy timeout the writer gets SQLite's own "database is locked", so a USSD
    step answers "try again" within its budget instead of waiting on in SQLite too."""
    context = multiprocessing.get_context("spawn")
    ready, done = context.Event(), context.Event()
    child = context.Process(target=_hold_in_child, args=(lock_path, 3.0, ready, done))
    child.start()
    try:
        assert ready.wait(30)
        began = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            with WriterLock(lock_path, timeout_s=0.3).held():
                pass
        assert time.monotonic() - began < 2.5
        assert not done.is_set()
    finally:
        child.join(10)


def test_no_lock_file_to_be_had_means_no_lock(tmp_path):
    """A database in a folder the process cannot write to: SQLite's handler alone."""
    with WriterLock(str(tmp_path / "missing" / "vaxgate.db"), timeout_s=1).held() as got:
        assert not got


def test_a_database_write_holds_the_lock_from_its_begin_to_its_commit_or_rollback(tmp_path):
    """Taken at ``BEGIN IMMEDIATE`` (not when the session opens), given back when the
    connection returns to the pool; an error inside gives it back too."""
    from sqlalchemy import text

    from gateway.storage import Database

    path = str(tmp_path / "vaxgate.db")
    db, other = Database(f"sqlite:///{path}", timeout_s=5), WriterLock(path, timeout_s=0.2)
    try:
        with db.write() as outer:
            with db.write() as inner:  # opened inside, but the outer has not begun: no wait
                inner.execute(text("CREATE TABLE t (n INTEGER)"))
            with other.held():  # nothing holds it between transactions
                pass
            outer.execute(text("INSERT INTO t VALUES (1)"))
            with pytest.raises(OperationalError, match="database is locked"):
                with other.held():
                    pass
        with other.held():
            pass
        with pytest.raises(RuntimeError, match="the work failed"):
            with db.write() as session:
                session.execute(text("INSERT INTO t VALUES (2)"))
                raise RuntimeError("the work failed")
        with other.held():
            pass
        with db.read() as session:
            assert session.execute(text("SELECT n FROM t")).scalars().all() == [1]
    finally:
        db.dispose()


def test_a_database_held_by_another_program_fails_a_write_as_sqlalchemy_would(tmp_path):
    """Another program's ``BEGIN EXCLUSIVE`` does not use the lock file: the write waits in
    SQLite's handler, then fails with SQLAlchemy's OperationalError (a "try again" or a 503),
    not the driver's own (which no handler catches: a 500). The writer lock is given back."""
    import sqlite3

    from sqlalchemy import text

    from gateway.storage import Database

    path = str(tmp_path / "vaxgate.db")
    db = Database(f"sqlite:///{path}", timeout_s=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        with db.write() as session:
            session.execute(text("CREATE TABLE t (n INTEGER)"))
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(OperationalError, match="database is locked"):
            with db.write() as session:
                session.execute(text("INSERT INTO t VALUES (1)"))
        holder.execute("ROLLBACK")
        with WriterLock(path, timeout_s=0.2).held():
            pass
    finally:
        holder.close()
        db.dispose()
