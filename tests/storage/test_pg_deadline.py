"""PostgreSQL behind a dead network: every round trip ends by the client's deadline
(gateway/storage/pg_deadline.py), and the pool recovers once the network is back.
Runs in the PostgreSQL pass (TEST_DATABASE_URL); the fault test in tests/faults/ runs the
same cut against a whole gateway."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError

from gateway.storage import Database, pg_deadline
from tests.faults.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith(
    "postgresql"), reason="needs TEST_DATABASE_URL=postgresql+psycopg2://...")


@pytest.fixture
def cut_database(database_url):
    """A Database reached through a proxy that can stop passing bytes."""
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    db = Database(url.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False), timeout_s=1)
    yield db, proxy
    proxy.resume()
    db.dispose()
    proxy.close()


def _select_one(db: Database) -> int:
    with db.read() as session:
        return session.execute(text("SELECT 1")).scalar_one()


def test_a_silent_server_is_a_disconnect_after_the_deadline_then_the_pool_recovers(
        cut_database):
    db, proxy = cut_database
    assert _select_one(db) == 1
    proxy.pause()
    with pytest.raises(OperationalError, match="client's deadline") as failure:
        _select_one(db)
    assert failure.value.connection_invalidated or "could not receive" in str(failure.value)
    proxy.resume()
    assert _select_one(db) == 1


def test_a_request_deadline_bounds_every_round_trip_inside_it(cut_database):
    db, proxy = cut_database
    assert _select_one(db) == 1
    proxy.pause()
    with pg_deadline.within(0.2), pytest.raises(OperationalError, match="client's deadline"):
        _select_one(db)
    proxy.resume()
    with pg_deadline.within(5):
        assert _select_one(db) == 1

