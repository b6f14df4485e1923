"""Migrations that change data as well as the schema, up and down, on a database of their own."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from gateway.storage import upgrade_database
from gateway.storage.database import downgrade_database

# (district, the state migration 0014 gives it): one state only, a name two states share,
# a misspelling from before the directory, no district
DISTRICTS = [("Patna", "Bihar"), ("Aurangabad", None), ("Patana", None), (None, None)]


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'migrations.db'}"


def _add_rows(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for n, (district, _) in enumerate(DISTRICTS):
            conn.execute(text(
                "INSERT INTO admin_users (username, password_hash, role, district, active,"
                " failed_logins, created_at) VALUES (:u, 'x', 'district', :d, 1, 0,"
                " CURRENT_TIMESTAMP)"), {"u": f"user{n}", "d": district})
            conn.execute(text(
                "INSERT INTO api_keys (name, prefix, key_hash, role, district, created_by,"
                " created_at) VALUES (:u, :p, 'x', 'district', :d, 'test', CURRENT_TIMESTAMP)"),
                {"u": f"key{n}", "p": f"p{n}", "d": district})
    engine.dispose()


def _states(url: str, table: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        states = conn.execute(text(f"SELECT state FROM {table} ORDER BY id")).scalars().all()
    engine.dispose()
    return list(states)


def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    names = {c["name"] for c in inspect(engine).get_columns(table)}
    engine.dispose()
    return names


def test_0014_gives_users_and_keys_their_districts_state_only_where_it_is_one(url):
    upgrade_database(url, "0013")
    _add_rows(url)
    upgrade_database(url, "0014")
    expected = [state for _, state in DISTRICTS]
    assert _states(url, "admin_users") == _states(url, "api_keys") == expected


def test_0014_down_drops_the_state_and_up_again_refills_it(url):
    upgrade_database(url, "0013")
    _add_rows(url)
    upgrade_database(url, "0014")
    downgrade_database(url, "0013")
    assert "state" not in _columns(url, "admin_users") | _columns(url, "api_keys")
    upgrade_database(url, "0014")
    assert _states(url, "api_keys")[0] == "Bihar"
