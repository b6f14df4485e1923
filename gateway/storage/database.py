"""Engine and session handling, and schema upgrades through Alembic.

SQLite notes: WAL mode lets readers run beside one writer; every write transaction starts
with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of failing on a
read-to-write lock upgrade, and writers of all processes first queue on a lock file
(gateway/storage/sqlite_writers.py) so the next one starts as soon as the last one ends.
PostgreSQL needs none of this.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached, sessionmaker

from . import pg_deadline
from .sqlite_writers import WriterLock

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30
WRITERS_KEY = "vaxgate_sqlite_writers"  # record_info: the writer lock this connection holds
# the client gives up this long after the server's statement_timeout would have fired
PG_DEADLINE_MARGIN_S = 0.5
T = TypeVar("T")


class Database:
    """One engine per process, with read and write session factories."""

    def __init__(self, url: str, echo: bool = False, timeout_s: float = SQLITE_BUSY_TIMEOUT_S,
                 replica_url: str = ""):
        """``timeout_s`` bounds lock waits and statements: short for web requests (a USSD step
        must answer within the aggregator's budget), long for workers and the CLI.
        ``replica_url``: a read replica for :meth:`report` (its statements may run longer)."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = _create_engine(url, echo, timeout_s)
        path = _sqlite_file(url)
        writers = WriterLock(path, timeout_s) if path else None
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE",
                                               sqlite_writers=writers) if self.is_sqlite \
            else self.engine
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(writer, expire_on_commit=False)
        self.replica = _create_engine(replica_url, echo, SQLITE_BUSY_TIMEOUT_S) \
            if replica_url else None
        self._reporter = sessionmaker(self.replica or self.engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries. Closing it ends the transaction; loaded objects stay usable."""
        with self._reader() as session:
            yield session

    @contextmanager
    def report(self) -> Iterator[Session]:
        """A session for reads that may be seconds stale (day lists, exports, reports,
        statistics): on the replica when there is one. Never for a caller's path (eligibility,
        free slots, booking, OTP): those read the primary with :meth:`read`."""
        with self._reporter() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with self._writer() as session, session.begin():
            yield session

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True

    def accepts_write(self) -> bool:
        """True when a write commits: rewrites the one row of ``alembic_version`` in place, so
        a full disk, a read-only file or a write-locked database shows, with no table of its
        own."""
        with self.write() as session:
            session.execute(text("UPDATE alembic_version SET version_num = version_num"))
        return True

    def dispose(self) -> None:
        self.engine.dispose()
        if self.replica is not None:
            self.replica.dispose()


def _create_engine(url: str, echo: bool, timeout_s: float) -> Engine:
    if not url.startswith("sqlite"):
        connect_args = {}
        if url.startswith("postgresql"):
            connect_args = {"connect_timeout": max(1, int(timeout_s)),
                            "options": f"-c statement_timeout={int(timeout_s * 1000)}"
                                       f" -c lock_timeout={int(timeout_s * 1000)}"}
            if make_url(url).get_driver_name() == "psycopg2":
                # the server's timeouts cannot fire for a query that never reaches it
                pg_deadline.install()
                connect_args["connection_factory"] = pg_deadline.deadline_connection(
                    timeout_s + PG_DEADLINE_MARGIN_S)
        return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20,
                             pool_timeout=timeout_s, connect_args=connect_args,
                             hide_parameters=True)
    _ensure_sqlite_folder(url)
    # hide_parameters: phone numbers and names never reach logs or error messages via SQL
    engine = create_engine(url, echo=echo, connect_args={"timeout": timeout_s},
                           hide_parameters=True)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    event.listen(engine, "checkin", _sqlite_on_checkin)
    return engine


def _sqlite_file(url: str) -> str:
    """The file of a SQLite URL; "" for an in-memory database or another kind of URL."""
    if not url.startswith("sqlite") or "///" not in url:  # sqlite:// is in memory too
        return ""
    path = url.split("///", 1)[1]
    if path.startswith("file:"):  # a URI filename (uri=true): file:PATH?mode=ro...
        path = path.removeprefix("file:").split("?", 1)[0]
    return "" if path in ("", ":memory:") else path


def _ensure_sqlite_folder(url: str) -> None:
    """SQLite creates the file but not its folder (e.g. var/ on a fresh checkout)."""
    path = _sqlite_file(url)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see module docstring).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")

    cursor.close()


def _sqlite_on_begin(conn) -> None:
    options = conn.get_execution_options()
    writers = options.get("sqlite_writers")
    if writers is not None:  # a write transaction: queue with the other writers first
        conn.connection.record_info[WRITERS_KEY] = (writers, writers.acquire())
    try:
        # Straight to the driver: SQLAlchemy's execution path (exec_driver_sql) makes each
        # BEGIN a noticeable share of a USSD step.
        begin = f"BEGIN {options.get('sqlite_begin', 'DEFERRED')}"
        conn.connection.driver_connection.execute(begin)
    except BaseException as exc:
        _release_writers(conn.connection.record_info)
        if isinstance(exc, sqlite3.OperationalError):
            # an event's error is not wrapped by SQLAlchemy: callers catch its OperationalError
            # ("database is locked" while another program holds the lock: "try again", a 503)
            raise OperationalError(begin, None, exc) from exc
        raise


def _sqlite_on_checkin(_dbapi_connection, record) -> None:
    """The connection is back in the pool: its transaction has committed or rolled back."""
    _release_writers(record.record_info)


def _release_writers(info: dict) -> None:
    held = info.pop(WRITERS_KEY, None)
    if held is not None:
        writers, flocked = held
        writers.release(flocked)


def dialect_insert(session: Session) -> Callable:
    """The ``insert`` of the session's dialect (PostgreSQL's or SQLite's), for ON CONFLICT."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def prepared(session: Session, build: Callable[[Callable], T]) -> T:
    """``build(insert)`` for the session's dialect, built once per process: a statement run
    on every step must not pay for its construction each time (values go in as
    parameters, never with ``.values()``)."""
    key = (build, session.get_bind().dialect.name)
    statement = _PREPARED.get(key)
    if statement is None:
        statement = _PREPARED[key] = build(dialect_insert(session))
    return statement


_PREPARED: dict[tuple[Callable, str], Any] = {}


def attach(session: Session, model: type[T], values: dict[str, Any]) -> T:
    """A ``model`` object holding ``values`` (a row a Core statement just inserted or read:
    every column set, the primary key included), made a persistent object of ``session``
    without a SELECT or a flush: the hot paths write and read with Core (the ORM's unit of
    work and loading cost more than the SQL) and still hand callers the model objects they
    expect. The values go into the object's dict as loading would put them (the
    instrumented constructor costs three times as much). A column left unset would be
    loaded on first access."""
    mapper = inspect(model)
    if not mapper.configured:  # the constructor would configure it; new_instance does not
        configure_mappers()
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


def alembic_config(url: str):
    """An Alembic Config pointing at our migrations, for the given database URL."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (idempotent)."""
    from alembic import command

    _ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)


def downgrade_database(url: str, revision: str) -> None:
    """Undo migrations down to ``revision`` (``base``: every one); data in dropped columns
    and tables is lost."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def schema_revisions(url: str) -> tuple[str | None, str]:
    """(the database's migration revision, or None before the first; the newest there is)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.pool import NullPool

    newest = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision(), newest
    finally:
        engine.dispose()


def has_tables(db: Database) -> bool:
    """True once the schema has been created by migrations."""
    return inspect(db.engine).has_table("centers")
