"""``database_replica_url``: day lists, reports and statistics read the replica; a caller's
USSD journey (free slots, booking) reads and writes the primary. The "replica" here is a
second database with different rows, so a read that goes to the wrong one shows."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway import create_app
from gateway.registry.demo_data import load_demo_data
from gateway.storage import Appointment, Center, Database, Slot, upgrade_database

from .conftest import book_on_ussd

KEY = {"X-API-Key": "reports-key"}


@pytest.fixture
def replica(tmp_path, settings):
    """A migrated second database holding the same demo centers and slots, no bookings."""
    url = f"sqlite:///{tmp_path / 'replica.db'}"
    upgrade_database(url)
    database = Database(url)
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    with database.write() as session:
        load_demo_data(session, today, days=settings.booking.days_ahead)
    yield url, database
    database.dispose()


@pytest.mark.usefixtures("demo_centers")
def test_reports_read_the_replica_and_a_booking_the_primary(settings, db, replica,
                                                            monkeypatch):
    monkeypatch.setenv("VAXGATE_API_KEYS", KEY["X-API-Key"])
    replica_url, replica_db = replica
    client = create_app(settings.model_copy(update={"database_replica_url": replica_url})
                        ).test_client()
    reference = book_on_ussd(client, "+919812345604")  # on the primary

    with db.read() as session:
        code, center_id, day = session.execute(select(Center.code, Center.id, Slot.date)
                                               .join(Slot, Slot.center_id == Center.id)
                                               .join(Appointment)).one()
    with replica_db.read() as session:  # the same center, by its code
        replica_center_id = session.scalar(select(Center.id).where(Center.code == code))

    from_replica = client.get(f"/api/v1/centers/{replica_center_id}/day-list?date={day}",
                              headers=KEY)
    from_primary = create_app(settings).test_client().get(
        f"/api/v1/centers/{center_id}/day-list?date={day}", headers=KEY)

    assert from_replica.status_code == from_primary.status_code == 200
    assert from_replica.json["appointments"] == []  # the replica has not seen the booking
    [booked] = from_primary.json["appointments"]
    assert reference in str(booked)

def test_without_a_replica_reports_read_the_primary(settings, db):
    database = Database(settings.database_url)
    try:
        assert database.replica is None
        with database.report() as session:
            assert session.get_bind() is database.engine
    finally:
        database.dispose()
