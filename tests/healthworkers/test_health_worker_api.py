"""/api/v1 for health workers, imports and the upstream backlog: roles and districts, bad
input named by field, the lock visible to admins, and the backlog on /metrics."""
from __future__ import annotations

import pytest

from gateway.api.keys import create_key
from gateway.healthworkers import accounts

from .conftest import CENTER_CODE

NEW = {"name": "Asha Kumari", "phone": "98765 43210", "center_code": CENTER_CODE}


@pytest.fixture
def keys(db):
    made = {}
    with db.write() as session:
        for role, district in (("admin", None), ("district", "Patna"),
                               ("lucknow", "Lucknow"), ("viewer", None)):
            _, made[role] = create_key(session, f"{role} key", role if role != "lucknow"
                                       else "district", district, "test")
    return made


def call(client, method: str, path: str, key: str, **kwargs):
    return getattr(client, method)(path, headers={"X-API-Key": key}, **kwargs)


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("who, body, status, field", [
    ("admin", NEW, 201, None),
    ("district", NEW, 201, None),
    ("lucknow", NEW, 403, None),
    ("viewer", NEW, 403, None),
    ("admin", {**NEW, "phone": "12"}, 400, "phone"),
    ("admin", {**NEW, "name": "4sha"}, 400, "name"),
    ("admin", {**NEW, "center_code": "NOPE"}, 400, "center_code"),
    ("admin", {"name": "Asha"}, 400, "phone"),
    ("admin", {**NEW, "district": 7}, 400, "district"),
])
def test_creating_a_health_worker_checks_role_district_and_fields(client, keys, who, body,
                                                                  status, field):
    response = call(client, "post", "/api/v1/health-workers", keys[who], json=body)

    assert response.status_code == status, response.get_json()
    assert response.get_json().get("field") == field
    if status == 201:
        made = response.get_json()["health_worker"]
        assert (made["phone"], made["district"], made["pin_set"]) == ("+919876543210",
                                                                      "Patna", False)


def test_a_lock_is_visible_to_admins_and_can_be_ended(client, db, keys, worker_with_pin,
                                                      settings):
    with db.write() as session:
        worker = accounts.get(session, worker_with_pin)
        for _ in range(settings.health_workers.max_pin_failures):
            accounts.check_pin(session, worker, "0000", settings.health_workers)

    listed = call(client, "get", "/api/v1/health-workers", keys["admin"]).get_json()
    unlocked = call(client, "post", f"/api/v1/health-workers/{worker_with_pin}/unlock",
                    keys["district"]).get_json()

    assert listed["health_workers"][0]["locked"] is True
    assert unlocked["health_worker"]["locked"] is False
    assert call(client, "post", f"/api/v1/health-workers/{worker_with_pin}/unlock",
                keys["lucknow"]).status_code == 404  # not in their district


def test_an_unlock_also_clears_the_days_wrong_pin_count(client, db, keys, worker_with_pin,
                                                       settings, redis_client):
    rules = settings.health_workers
    daily = accounts.daily_failures(redis_client, rules)
    with db.write() as session:  # the day's cap reached: locked until the day is over
        worker = accounts.get(session, worker_with_pin)
        for _ in range(rules.max_pin_failures_per_day):
            worker.locked_until = None
            verdict = accounts.check_pin(session, worker, "0000", rules, daily=daily)
    assert verdict.locked_until is not None and daily.retry_after(str(worker_with_pin)) > 0

    call(client, "post", f"/api/v1/health-workers/{worker_with_pin}/unlock", keys["admin"])

    assert daily.retry_after(str(worker_with_pin)) == 0
    with db.write() as session:  # a wrong PIN now counts as the first of a fresh day
        again = accounts.check_pin(session, accounts.get(session, worker_with_pin), "0000",
                                   rules, daily=daily)
    assert again.locked_until is None and again.tries_left == rules.max_pin_failures - 1


def test_the_audit_trail_is_listed_per_worker(client, hw_phone, keys, worker_with_pin):
    hw_phone.dial()
    hw_phone.send("4826")

    actions = call(client, "get", f"/api/v1/health-workers/{worker_with_pin}/actions",
                   keys["viewer"]).get_json()["actions"]

    assert [(a["action"], a["channel"], a["phone"]) for a in actions] == [
        ("sign_in", "ussd", "+919900011122")]


def test_a_csv_posted_to_imports_answers_every_rejected_row(client, keys):
    body = ("name,birth_year,gender,phone,pincode\nSita Devi,1948,F,9812345678,800001\n"
            "Ram,1948,F,9812345678,8000011\nGita,1950,F,9812345679,800999\n")
    response = call(client, "post", "/api/v1/imports", keys["admin"], data=body,
                    content_type="text/csv")

    assert response.status_code == 200
    result = response.get_json()
    assert (result["registered"], result["rejected"]) == (1, [
        {"line": 3, "reason": "pincode: '8000011' is not 6 digits starting 1-9"},
        {"line": 4, "reason": "pincode: 800999 is not a PIN code in India Post's directory"}])
    assert call(client, "post", "/api/v1/imports", keys["district"], data=body,
                content_type="text/csv").status_code == 403


@pytest.mark.parametrize("body, field", [
    ("", "file"), ("name,phone\nSita,98\n", "file"), ("a\x00b\n", "file"),
])
def test_an_unusable_csv_is_a_400_naming_the_file(client, keys, body, field):
    response = call(client, "post", "/api/v1/imports", keys["admin"], data=body,
                    content_type="text/csv")
    assert (response.status_code, response.get_json()["field"]) == (400, field)


def test_the_backlog_is_in_the_api_and_in_metrics(client, db, keys):
    call(client, "post", "/api/v1/imports", keys["admin"], content_type="text/csv",
         data="name,birth_year,gender,phone,pincode\nSita Devi,1948,F,9812345678,800001\n")

    backlog = call(client, "get", "/api/v1/upstream/backlog", keys["viewer"]).get_json()
    metrics = client.get("/metrics").get_data(as_text=True)

    assert (backlog["pending"], backlog["configured"]) == (1, False)
    assert 'vaxgate_upstream_backlog_events{status="pending"} 1.0' in metrics
    assert "vaxgate_upstream_oldest_pending_seconds" in metrics
    assert "vaxgate_upstream_circuit_state 0.0" in metrics  # closed
    assert backlog["oldest_pending_age_seconds"] is not None


def test_a_parked_event_is_listed_and_resent_by_admins(client, db, keys):
    from gateway.registry.outbox import record_event
    from gateway.storage import UpstreamEvent

    with db.write() as session:
        event_id = record_event(session, "beneficiary.registered", 1, {})
        event = session.get(UpstreamEvent, event_id)
        event.status, event.last_error = "parked", "HTTP 422: bad pincode"

    parked = call(client, "get", "/api/v1/upstream/events?status=parked", keys["admin"])
    resent = call(client, "post", f"/api/v1/upstream/events/{event_id}/resend", keys["admin"])
    again = call(client, "post", f"/api/v1/upstream/events/{event_id}/resend", keys["admin"])

    assert parked.get_json()["events"][0]["last_error"] == "HTTP 422: bad pincode"
    assert (resent.status_code, again.status_code) == (200, 404)
    with db.read() as session:
        assert session.get(UpstreamEvent, event_id).status == "pending"
