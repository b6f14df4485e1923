"""A district name two states share: Aurangabad is a district of Bihar and of Maharashtra.

A district user or key scoped to Aurangabad (Bihar) sees that district's centers, people,
health workers and reminders and nothing of Aurangabad (Maharashtra); a user or key named
before states were stored (no state) still sees the name in both states, as it did.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from gateway.admin import inventory as inv
from gateway.admin.auth import Principal, create_user
from gateway.admin.models import AdminUser
from gateway.api.keys import create_key
from gateway.healthworkers import accounts
from gateway.registry import appointments, beneficiaries
from gateway.registry.notifications import record_appointment_sms
from gateway.storage import Slot
from tests.admin.conftest import PASSWORD, AuthActions

# (state, center code, center name, PIN code, person, phone, health worker, her phone)
PLACES = {"Bihar": ("AURBR1", "PHC Obra", "824101", "Sita Devi", "+919811100011",
                    "Asha Kumari", "+919833300013"),
          "Maharashtra": ("AURMH1", "PHC Paithan", "431001", "Ram Patil", "+919822200012",
                          "Meena Jadhav", "+919844400014")}


@dataclass
class Twins:
    center_id: dict[str, int]
    keys: dict[str, str]


@pytest.fixture
def twins(db, settings) -> Twins:
    """A center, a booked person (with an SMS) and a health worker in each Aurangabad; keys
    and users for Aurangabad (Bihar) and for Aurangabad with no state."""
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    root = Principal("test", "admin")
    ids, keys = {}, {}
    with db.write() as session:
        for state, (code, name, pin, person, phone, worker, worker_phone) in PLACES.items():
            center = inv.save_center(session, root, inv.CenterIn(
                code=code, name=name, state=state, district="Aurangabad", pincode=pin))
            slot = Slot(center_id=center.id, date=today, start_time=dt.time(9),
                        end_time=dt.time(13), age_group="45+", capacity=10)
            session.add(slot)
            session.flush()
            who, _ = beneficiaries.register(session, beneficiaries.NewBeneficiary(
                phone=phone, name=person, birth_year=1950, gender="F", id_type="aadhaar",
                id_last4="1234", pincode=pin), today=today, min_age=18, cap=4)
            booked = appointments.book(session, who.id, slot.id, today=today)
            record_appointment_sms(session, "booked", booked, "en", None)
            accounts.create(session, name=worker, phone=worker_phone, center_code=code)
            ids[state] = center.id
        _, keys["bihar"] = create_key(session, "bihar", "district", "Aurangabad", "test",
                                      state="Bihar")
        legacy, keys["legacy"] = create_key(session, "legacy", "district", "Aurangabad",
                                            "test", state="Maharashtra")
        legacy.state = None  # as migration 0014 leaves a key named before states were stored
        create_user(session, "aur.bihar", PASSWORD, "district", "Aurangabad", "Bihar")
        create_user(session, "aur.legacy", PASSWORD, "district", "Aurangabad", "Maharashtra")
        session.execute(update(AdminUser).where(AdminUser.username == "aur.legacy")
                        .values(state=None))
    return Twins(ids, keys)


def _words(text: str, state: str) -> set[str]:
    found = {w for w in PLACES[state] if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)}
    return found | ({PLACES[state][4]} if PLACES[state][4][-10:] in text else set())


def _get(client, path: str, key: str):
    return client.get(path, headers={"X-API-Key": key})


API_LISTS = ["/api/v1/centers", "/api/v1/health-workers", "/api/v1/messages",
             "/api/v1/export/centers.csv"]


@pytest.mark.parametrize("path", API_LISTS)
def test_an_aurangabad_bihar_key_sees_nothing_of_aurangabad_maharashtra(client, twins, path):
    response = _get(client, path, twins.keys["bihar"])
    text = response.get_data(as_text=True)
    assert response.status_code == 200, text
    assert _words(text, "Bihar") and not _words(text, "Maharashtra"), text


@pytest.mark.parametrize("path", ["/api/v1/centers", "/api/v1/health-workers"])
def test_a_key_without_a_state_still_sees_both_aurangabads(client, twins, path):
    text = _get(client, path, twins.keys["legacy"]).get_data(as_text=True)
    assert _words(text, "Bihar") and _words(text, "Maharashtra"), text


def test_the_other_aurangabads_center_is_not_found_for_a_bihar_key(client, twins):
    other = twins.center_id["Maharashtra"]
    for path in (f"/api/v1/centers/{other}", f"/api/v1/centers/{other}/slots"):
        assert _get(client, path, twins.keys["bihar"]).status_code == 404, path
    day_list = _get(client, f"/api/v1/centers/{other}/day-list?date="
                    f"{dt.date.today().isoformat()}", twins.keys["bihar"])
    assert day_list.status_code in (403, 404)


def test_the_reach_report_of_a_bihar_key_counts_only_its_aurangabad(client, twins):
    report = _get(client, "/api/v1/districts/Aurangabad/reminders", twins.keys["bihar"])
    assert report.status_code == 200, report.get_json()
    assert (report.json["state"], report.json["appointments"]) == ("Bihar", 1)
    other = _get(client, "/api/v1/districts/Aurangabad/reminders?state=Maharashtra",
                 twins.keys["bihar"])
    assert other.status_code == 403
    legacy = _get(client, "/api/v1/districts/Aurangabad/reminders", twins.keys["legacy"])
    assert legacy.json["appointments"] == 2


def test_the_phone_history_of_the_other_aurangabads_person_is_empty(client, twins):
    response = client.post("/api/v1/phone-history", json={"phone": PLACES["Maharashtra"][4]},
                           headers={"X-API-Key": twins.keys["bihar"]})
    assert response.status_code == 200 and response.json["messages"] == []
    own = client.post("/api/v1/phone-history", json={"phone": PLACES["Bihar"][4]},
                      headers={"X-API-Key": twins.keys["bihar"]})
    assert len(own.json["messages"]) == 1


def test_the_stats_of_a_bihar_key_count_one_booking(client, twins):
    stats = _get(client, "/api/v1/stats", twins.keys["bihar"]).json
    assert stats["totals"]["bookings"] == 1
    assert [row["booked"] for row in stats["slot_fill"]] == [1]


@pytest.mark.parametrize("path", ["/admin/centers", "/admin/health-workers", "/admin/"])
def test_an_aurangabad_bihar_user_sees_nothing_of_aurangabad_maharashtra(client, twins, path):
    AuthActions(client).login("aur.bihar")
    page = client.get(path).get_data(as_text=True)
    assert not _words(page, "Maharashtra"), path
    if path != "/admin/":
        assert _words(page, "Bihar"), path


def test_a_bihar_user_cannot_open_or_claim_the_other_aurangabads_center(client, twins):
    auth = AuthActions(client)
    auth.login("aur.bihar")
    assert client.get(f"/admin/centers/{twins.center_id['Maharashtra']}").status_code == 404
    form = auth.post("/admin/centers/new", {
        "code": "AURMH2", "name": "PHC Gangapur", "state": "Maharashtra",
        "district": "Aurangabad", "pincode": "431001"})
    assert "you can only manage centers in Aurangabad, Bihar" in form.get_data(as_text=True)


def test_a_user_without_a_state_still_sees_both_aurangabads(client, twins):
    AuthActions(client).login("aur.legacy")
    page = client.get("/admin/centers").get_data(as_text=True)
    assert _words(page, "Bihar") and _words(page, "Maharashtra")
