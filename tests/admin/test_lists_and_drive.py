"""Day lists, the dashboard, messages and the audit log, as each role sees them."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway.registry import appointments, beneficiaries
from gateway.sms.outbox import record_message
from gateway.storage import Center, Slot


@pytest.fixture
def booking(db, settings, demo_centers):
    """Sita, booked today at the first Patna center; returns (center id, reference)."""
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    with db.write() as session:
        person, _ = beneficiaries.register(session, beneficiaries.NewBeneficiary(
            phone="+919812345678", name="Sita Devi", birth_year=1950, gender="F",
            id_type="aadhaar", id_last4="4821", pincode="800020"), today=today, min_age=18,
            cap=4)
        slot = session.scalar(select(Slot).join(Center).where(
            Center.district == "Patna", Slot.date == today, Slot.age_group == "45+")
            .order_by(Slot.id).limit(1))
        booked = appointments.book(session, person.id, slot.id, today=today)
        return slot.center_id, booked.reference


def test_the_day_list_shows_who_is_coming(auth, client, booking):
    center_id, reference = booking
    auth.login("patna")
    page = client.get(f"/admin/lists?center_id={center_id}").get_data(as_text=True)
    assert reference in page and "Sita Devi" in page and "+919812345678" in page


def test_a_district_user_cannot_open_another_districts_day_list(auth, client, booking, db):
    center_id, _ = booking
    auth.login("lucknow")
    assert client.get(f"/admin/lists?center_id={center_id}").status_code == 404


def test_the_dashboard_counts_registrations_and_bookings_with_charts(auth, client,
                                                                        booking):
    auth.login()
    page = client.get("/admin/").get_data(as_text=True)
    assert '<b id="total-registrations">1</b>' in page and '<b id="total-bookings">1</b>' in page
    assert page.count("data-chart=") >= 3 and "How full the slots are" in page
    assert '<b id="funnel-registered">1</b>' in page and '<b id="funnel-booked">1</b>' in page


def test_a_district_dashboard_counts_only_its_district(auth, client, booking):
    auth.login("lucknow")
    page = client.get("/admin/").get_data(as_text=True)
    assert '<b id="total-bookings">0</b>' in page and "Patna" not in page


def test_messages_are_found_by_phone_and_by_reference_with_attempts(auth, client, db,
                                                                    booking):
    _, reference = booking
    with db.write() as session:
        record_message(session, budget=None, phone="+919812345678", kind="confirmation", lang="en",
                       body="Booked: " + reference, dedupe_key="test-1")
    auth.login()
    for query in ("9812345678", reference):
        page = client.get(f"/admin/messages?q={query}").get_data(as_text=True)
        assert "Booked: " + reference in page
    assert client.get("/admin/messages?q=not-a-thing").status_code == 400
    exported = client.get("/admin/messages?q=9812345678&export=1")
    assert exported.mimetype == "text/csv" and "+919812345678" in exported.get_data(True)
    assert "+05:30," in exported.get_data(True)  # India time, as the console shows it


def test_a_district_user_does_not_see_messages_of_another_district(auth, client, db,
                                                                   booking):
    with db.write() as session:
        record_message(session, budget=None, phone="+919812345678", kind="confirmation", lang="en",
                       body="Patna only", dedupe_key="test-2")
    auth.login("lucknow")
    assert "Patna only" not in client.get("/admin/messages").get_data(as_text=True)


def test_an_api_key_created_in_the_console_is_shown_once_and_works(auth, client):
    import re

    auth.login()
    page = auth.post("/admin/keys", {"name": "portal", "role": "viewer"}).get_data(True)
    key = re.search(r'id="new-key">([^<]+)<', page).group(1)
    assert client.get("/api/v1/centers", headers={"X-API-Key": key}).status_code == 200
    assert key not in client.get("/admin/users").get_data(as_text=True)


def test_messages_filter_by_status_and_say_when_nothing_matches(auth, client, db, booking):
    with db.write() as session:
        failed = record_message(session, phone="+919812345678", kind="confirmation",
                                lang="en", body="Did not arrive", dedupe_key="test-3",
                                budget=None)
        failed.status = "undelivered"
        record_message(session, phone="+919812345678", kind="confirmation", lang="en",
                       body="Still waiting", dedupe_key="test-4", budget=None)
    auth.login()
    page = client.get("/admin/messages?status=failed").get_data(as_text=True)
    assert "Did not arrive" in page and "Still waiting" not in page
    empty = client.get("/admin/messages?status=delivered").get_data(as_text=True)
    assert "No messages match this search." in empty
