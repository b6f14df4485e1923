"""/api/v1: API keys hashed in SQL and scoped by role; the OpenAPI document matches the routes
and the app answers as it says (schemathesis)."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from gateway.admin.models import ApiKey, AuditEntry
from gateway.api.keys import create_key, revoke_key
from gateway.api.openapi import PATHS
from tests.fuzz import tally


@pytest.fixture
def keys(db):
    """One API key per role; a district key for Patna."""
    made = {}
    with db.write() as session:
        for role, district in (("admin", None), ("district", "Patna"), ("viewer", None)):
            _, made[role] = create_key(session, f"{role} key", role, district, "test")
    return made


def call(client, method: str, path: str, key: str | None, **kwargs):
    headers = {"X-API-Key": key} if key else {}
    return getattr(client, method)(path, headers=headers, **kwargs)


def test_a_key_is_stored_only_as_its_hash(db, keys):
    with db.read() as session:
        hashes = session.scalars(select(ApiKey.key_hash)).all()
    assert all(key not in hashes and len(h) == 64 for key in keys.values() for h in hashes)


@pytest.mark.parametrize("key", [None, "vx_00000000_nope", "garbage"])
def test_no_or_unknown_key_gets_401(client, keys, key):
    assert call(client, "get", "/api/v1/centers", key).status_code == 401


def test_a_revoked_key_stops_working(client, db, keys):
    with db.write() as session:
        revoke_key(session, session.scalar(select(ApiKey.id).where(ApiKey.role == "viewer")))
    assert call(client, "get", "/api/v1/centers", keys["viewer"]).status_code == 401


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("role, method, path, body, status", [
    ("viewer", "post", "/api/v1/centers", {}, 403),
    ("viewer", "get", "/api/v1/centers", None, 200),
    ("district", "get", "/api/v1/audit", None, 403),
    ("district", "post", "/api/v1/menus/versions", {"files": {}}, 403),
    ("admin", "get", "/api/v1/audit", None, 200),
    ("admin", "post", "/api/v1/centers", {"code": "A1"}, 400),
])
def test_roles_scope_what_a_key_may_do(client, keys, role, method, path, body, status):
    kwargs = {"json": body} if body is not None else {}
    assert call(client, method, path, keys[role], **kwargs).status_code == status


@pytest.mark.usefixtures("demo_centers")
def test_a_district_key_sees_only_its_district(client, keys):
    centers = call(client, "get", "/api/v1/centers", keys["district"]).get_json()["centers"]
    assert centers and {c["district"] for c in centers} == {"Patna"}
    everything = call(client, "get", "/api/v1/centers", keys["admin"]).get_json()["centers"]
    other = next(c for c in everything if c["district"] != "Patna")
    assert call(client, "get", f"/api/v1/centers/{other['id']}",
                keys["district"]).status_code == 404


def test_bad_input_names_the_field(client, keys):
    response = call(client, "post", "/api/v1/centers", keys["admin"], json={
        "code": "OK1", "name": "PHC", "state": "Bihar", "district": "Patna",
        "pincode": "0123"})
    assert response.status_code == 400 and response.get_json()["field"] == "pincode"


@pytest.mark.usefixtures("demo_centers")
def test_capacity_below_booked_is_a_409_with_the_numbers(client, db, keys):
    from gateway.storage import Slot

    with db.write() as session:
        slot = session.scalar(select(Slot).order_by(Slot.id).limit(1))
        slot.capacity, slot.booked = 10, 6
    response = call(client, "patch", f"/api/v1/slots/{slot.id}", keys["admin"],
                    json={"capacity": 3})
    assert response.status_code == 409
    assert response.get_json() | {"capacity": 3, "booked": 6} == response.get_json()


@pytest.mark.usefixtures("demo_centers")
def test_bulk_slots_and_menu_publish_are_audited_with_the_key_name(client, db, keys):
    centers = call(client, "get", "/api/v1/centers?q=DEMO001", keys["admin"]).get_json()
    response = call(client, "post", f"/api/v1/centers/{centers['centers'][0]['id']}/slots/bulk",
                    keys["admin"], json={"date_from": "2030-02-01", "date_to": "2030-02-03",
                                         "windows": [["09:00", "10:00"]], "capacity": 5})
    assert response.status_code == 201 and response.get_json() == {"created": 6, "skipped": 0}
    with db.read() as session:
        assert session.scalar(select(AuditEntry.actor)) == "api-key:admin key"


def test_menus_with_problems_are_refused_with_each_problem(client, keys):
    response = call(client, "post", "/api/v1/menus/versions", keys["admin"],
                    json={"files": {"main.yaml": "start: nowhere\nhome: menu\nscreens: {}\n"}})
    assert response.status_code == 422 and response.get_json()["problems"]


def test_sql_api_keys_with_the_otp_scope_work_for_the_otp_api_too(client, db):
    with db.write() as session:
        _, key = create_key(session, "portal", "district", "Patna", "test",
                            scopes=["otp:send"])
    response = call(client, "post", "/api/v1/otp", key, json={"phone": "+919812345678"})
    assert response.status_code == 201 and response.get_json()["transaction_id"]


@pytest.mark.parametrize("role", ["admin", "district", "viewer"])
def test_a_key_without_the_otp_scope_cannot_send_otp_sms(client, keys, role):
    """Any key could send OTP SMS (a viewer's too); now only keys granted otp:send."""
    response = call(client, "post", "/api/v1/otp", keys[role], json={"phone": "+919812345678"})
    assert response.status_code == 403 and "otp:send" in response.get_json()["detail"]


def test_a_read_only_key_cannot_change_anything(client, db):
    with db.write() as session:
        _, key = create_key(session, "dashboard", "admin", None, "test", scopes=["read"])
    assert call(client, "get", "/api/v1/centers", key).status_code == 200
    refused = call(client, "post", "/api/v1/centers", key, json={"code": "X"})
    assert refused.status_code == 403 and "write" in refused.get_json()["detail"]


@pytest.mark.parametrize("role, scopes", [("viewer", ["write"]), ("viewer", ["otp:send"]),
                                          ("admin", ["root"])])
def test_a_key_gets_no_scope_beyond_its_role(client, keys, role, scopes):
    response = call(client, "post", "/api/v1/keys", keys["admin"],
                    json={"name": "x", "role": role, "scopes": scopes})
    assert response.status_code == 400 and response.get_json()["field"] == "scopes"


def test_the_openapi_document_names_each_operations_scope(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/api/v1/otp"]["post"]["x-required-scope"] == "otp:send"
    assert paths["/api/v1/centers"]["get"]["x-required-scope"] == "read"
    assert paths["/api/v1/centers"]["post"]["x-required-scope"] == "write"


@pytest.mark.usefixtures("demo_centers")
def test_csv_export_and_import_by_api_with_row_errors(client, keys):
    exported = call(client, "get", "/api/v1/export/centers.csv", keys["district"])
    assert exported.mimetype == "text/csv" and "Lucknow" not in exported.get_data(True)
    again = call(client, "post", "/api/v1/import/centers", keys["district"],
                 data=exported.get_data(), content_type="text/csv")
    assert again.status_code == 200 and again.get_json()["created"] == 0
    bad = call(client, "post", "/api/v1/import/slots", keys["admin"], content_type="text/csv",
               data="center_code,date,start_time,end_time,age_group,vaccine,capacity\n"
                    "NOPE,2030-01-01,09:00,11:00,18-44,X,1\n")
    assert bad.status_code == 400
    assert bad.get_json()["errors"] == ["row 2: center_code: no center 'NOPE'"]


@pytest.mark.usefixtures("demo_centers")
def test_a_csv_import_may_exceed_the_webhook_body_limit(client, keys):
    """Webhooks are capped at 64 KB; a CSV body up to 5 MB imports; past that, a 413."""
    from gateway.admin.csvio import MAX_UPLOAD_BYTES
    header = "center_code,date,start_time,end_time,age_group,vaccine,capacity\n"
    body = header + "".join(
        f"DEMO001,2031-{1 + n // 28:02d}-{1 + n % 28:02d},{h:02d}:00,{h:02d}:30,18-44,COVAXIN,5\n"
        for n in range(12 * 28) for h in (8, 10, 12, 14, 16, 18))
    assert len(body) > 64 * 1024
    ok = call(client, "post", "/api/v1/import/slots", keys["admin"], data=body,
              content_type="text/csv")
    assert ok.status_code == 200, ok.get_data(as_text=True)[:300]
    assert ok.get_json()["created"] == 12 * 28 * 6
    too_big = call(client, "post", "/api/v1/import/slots", keys["admin"],
                   data=header + "x" * MAX_UPLOAD_BYTES, content_type="text/csv")
    assert too_big.status_code == 413


@pytest.mark.parametrize("role, body, status, field", [
    ("admin", {"username": "asha", "password": "long enough pw", "role": "viewer"}, 201, None),
    ("admin", {"username": "asha", "password": "short", "role": "viewer"}, 400, "password"),
    ("admin", {"username": "asha", "password": 5, "role": "viewer"}, 400, "password"),
    ("district", {"username": "asha", "password": "long enough pw", "role": "viewer"}, 403,
     None),
])
def test_users_are_added_by_admin_keys_only(client, keys, role, body, status, field):
    response = call(client, "post", "/api/v1/users", keys[role], json=body)
    assert response.status_code == status
    assert response.get_json().get("field") == field


def test_the_openapi_document_lists_exactly_the_api_routes(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in PATHS.items() for method in ops}
    assert routes == documented


OPERATIONS = sorted((path, method) for path, ops in PATHS.items() for method in ops)


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("path, method", OPERATIONS)
def test_the_api_answers_as_its_openapi_document_says(app, keys, path, method):
    """schemathesis' generated requests: no 500s; status, content type and body as documented."""
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method.upper()]

    @given(case=operation.as_strategy())
    # Derandomized: the same cases every run, so CI cannot fail on a new draw. Fuzzing with
    # fresh draws belongs to a dedicated, longer run (issue 9).
    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck),
              database=None, derandomize=True)
    def check(case):
        with tally.case("schemathesis /api/v1 (every documented operation)"):
            case.call_and_validate(headers={"X-API-Key": keys["admin"]}, checks=[
                not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance])

    check()
