"""/api/v1/public: free slots for partner apps in Co-WIN's shapes, with no key; cached with
an ETag, rate-limited per client address."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from redis.crc import key_slot
from sqlalchemy import select, update

from gateway.geo.models import GeoDistrict
from gateway.storage import Center, Slot
from gateway.web.problems import problem_type

TOMORROW = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date() + dt.timedelta(days=1)
DAY = TOMORROW.strftime("%d-%m-%Y")
PERSONAL = ("phone", "name_key", "birth_year", "beneficiary", "reference", "id_last4")


def patna_id(db) -> int:
    with db.read() as session:
        return session.scalar(select(GeoDistrict.id).where(GeoDistrict.name == "Patna"))


def test_states_and_districts_come_from_india_posts_directory(client):
    states = client.get("/api/v1/public/location/states").get_json()
    bihar = next(s for s in states["states"] if s["state_name"] == "Bihar")
    assert len(states["states"]) == 36 and states["ttl"] == 24
    districts = client.get(f"/api/v1/public/location/districts/{bihar['state_id']}").get_json()
    names = [d["district_name"] for d in districts["districts"]]
    assert "Patna" in names and "Lucknow" not in names and len(names) == 38


def test_an_unknown_state_is_a_404_problem(client):
    response = client.get("/api/v1/public/location/districts/999")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == problem_type("not_found")


@pytest.mark.usefixtures("demo_centers")
def test_sessions_by_pin_are_the_centers_places_by_date_age_and_vaccine(client):
    response = client.get(f"/api/v1/public/sessions/findByPin?pincode=800020&date={DAY}")
    sessions = response.get_json()["sessions"]
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert {s["name"] for s in sessions} == {"UPHC Kankarbagh"}
    assert {s["min_age_limit"] for s in sessions} == {18, 45}
    first = sessions[0]
    assert first["date"] == DAY and first["pincode"] == 800020
    assert first["district_name"] == "Patna" and first["state_name"] == "Bihar"
    windows = sorted(w for s in sessions if s["min_age_limit"] == 45 for w in s["slots"])
    assert windows == ["09:00-11:00", "11:00-13:00", "14:00-16:00"]  # by vaccine, too
    assert all(s["from"] <= s["to"] and s["available_capacity"] > 0 for s in sessions)
    assert first["fee_type"] == "Free" and first["vaccine"] in ("COVISHIELD", "COVAXIN")
    assert not any(word in response.get_data(as_text=True) for word in PERSONAL)


@pytest.mark.usefixtures("demo_centers")
def test_sessions_by_district_cover_every_center_of_the_district(client, db):
    sessions = client.get(f"/api/v1/public/sessions/findByDistrict?district_id={patna_id(db)}"
                          f"&date={DAY}").get_json()["sessions"]
    with db.read() as session:
        patna = set(session.scalars(select(Center.name).where(Center.district == "Patna")))
    assert {s["name"] for s in sessions} == patna and len(patna) == 7


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("query", ["calendarByPin?pincode=800020",
                                   "calendarByDistrict?district_id={patna}"])
def test_a_calendar_holds_seven_days_of_sessions_per_center(client, db, query):
    url = f"/api/v1/public/sessions/{query.format(patna=patna_id(db))}&date={DAY}"
    centers = client.get(url).get_json()["centers"]
    kankarbagh = next(c for c in centers if c["name"] == "UPHC Kankarbagh")
    days = {s["date"] for s in kankarbagh["sessions"]}
    assert DAY in days and len(days) == 6  # the demo's 7 days started today


@pytest.mark.usefixtures("demo_centers")
def test_an_answer_carries_an_etag_and_a_matching_if_none_match_gets_a_304(client, settings):
    url = f"/api/v1/public/sessions/findByPin?pincode=800020&date={DAY}"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == \
        f"public, max-age={settings.public_api.cache_seconds}"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag


@pytest.mark.usefixtures("demo_centers")
def test_answers_come_from_the_short_cache_not_the_database(client, db, redis_client):
    url = f"/api/v1/public/sessions/findByPin?pincode=800020&date={DAY}"
    before = client.get(url).get_json()
    with db.write() as session:
        session.execute(update(Slot).values(booked=Slot.capacity))
    assert client.get(url).get_json() == before  # within cache_seconds
    redis_client.delete(*redis_client.keys("vaxgate:{public}:answer:*"))
    after = client.get(url).get_json()["sessions"]
    assert {s["available_capacity"] for s in after} == {0}


def test_the_rate_count_and_the_cached_answer_share_one_cluster_slot(client, redis_client):
    """The script that counts and reads takes both keys, which Redis Cluster allows only
    within one hash slot."""
    client.get("/api/v1/public/location/states")
    written = [k.decode() for k in redis_client.scan_iter("*public*")]
    assert {k.split(":")[2] for k in written} == {"rate", "answer"}, written
    assert len({key_slot(k.encode()) for k in written}) == 1, written


@pytest.fixture
def limited_client(settings, db, redis_client):
    from gateway import create_app

    public = settings.public_api.model_copy(update={"rate_limit_per_source": "3/minute"})
    return create_app(settings.model_copy(update={"public_api": public})).test_client()


def test_each_client_address_is_limited_and_told_when_to_come_back(limited_client):
    url = "/api/v1/public/location/states"
    assert [limited_client.get(url).status_code for _ in range(3)] == [200] * 3
    refused = limited_client.get(url)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["type"] == problem_type("rate_limited")
    other = limited_client.get(url, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


@pytest.mark.parametrize("query, field", [
    ("findByPin?pincode=80002&date=07-12-2026", "pincode"),
    ("findByPin?pincode=800020&date=2026-12-07", "date"),
    ("findByDistrict?district_id=x", "district_id"),
    ("calendarByDistrict", "district_id"),
])
def test_a_bad_parameter_is_a_400_problem_naming_it(client, query, field):
    response = client.get(f"/api/v1/public/sessions/{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["field"] == field


def test_no_key_is_needed_and_none_is_looked_at(client):
    assert client.get("/api/v1/public/location/states",
                      headers={"X-API-Key": "garbage"}).status_code == 200
