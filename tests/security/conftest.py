"""Security fixtures: the admin users of each role (from tests/admin), API keys of each role
and district, and data in two districts (``seeded``)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from gateway.api.keys import create_key
from gateway.registry.demo_data import load_demo_data
from tests.admin.conftest import (  # noqa: F401 - fixtures
    PASSWORD,
    AuthActions,
    auth,
    quick_hashes,
    users,
)
from tests.security.support import Seeded, seed_two_districts


@pytest.fixture
def keys(db) -> dict[str, str]:
    """One API key per role and district: admin, viewer (all districts), and a district key
    and a district viewer for Patna and for Lucknow."""
    made = {}
    with db.write() as session:
        for name, role, district in (("admin", "admin", None), ("viewer", "viewer", None),
                                     ("patna", "district", "Patna"),
                                     ("lucknow", "district", "Lucknow"),
                                     ("patna-viewer", "viewer", "Patna")):
            _, made[name] = create_key(session, f"{name} key", role, district, "test")
    return made


@pytest.fixture
def seeded(db, settings, users) -> Seeded:  # noqa: F811 - the users fixture
    """The demo centers with today's slots; Patna and Lucknow each with a booked person,
    their SMS and a health worker."""
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    with db.write() as session:
        load_demo_data(session, today, days=1)
    return seed_two_districts(db, today)
