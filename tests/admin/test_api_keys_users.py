"""/api/v1 manages API keys and console users as the Users page does (admin keys only)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.admin.auth import create_user
from gateway.admin.models import AuditEntry
from tests.admin.test_api import call, keys  # noqa: F401 - the fixture


def test_an_admin_key_creates_lists_and_revokes_keys(client, db, keys):  # noqa: F811
    made = call(client, "post", "/api/v1/keys", keys["admin"],
                json={"name": "portal", "role": "district", "district": "Gaya"})
    assert made.status_code == 201
    new_key = made.json["key"]
    assert call(client, "get", "/api/v1/centers", new_key).status_code == 200
    listed = call(client, "get", "/api/v1/keys", keys["admin"]).json["keys"]
    assert any(k["name"] == "portal" and "key" not in k for k in listed)

    revoked = call(client, "delete", f"/api/v1/keys/{made.json['id']}", keys["admin"])
    assert revoked.status_code == 200 and revoked.json["revoked"] is True
    assert call(client, "get", "/api/v1/centers", new_key).status_code == 401
    with db.read() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"key.create", "key.revoke"} <= actions


@pytest.mark.parametrize("role", ["district", "viewer"])
def test_only_admin_keys_manage_keys(client, keys, role):  # noqa: F811
    assert call(client, "get", "/api/v1/keys", keys[role]).status_code == 403
    assert call(client, "post", "/api/v1/keys", keys[role],
                json={"name": "x", "role": "admin"}).status_code == 403


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "role": "boss"}, "role"),
    ({"name": "x", "role": "district"}, "district"),
    ({"role": "viewer"}, "name"),
])
def test_a_bad_key_request_names_the_field(client, keys, body, field):  # noqa: F811
    answer = call(client, "post", "/api/v1/keys", keys["admin"], json=body)
    assert answer.status_code == 400 and answer.json["field"] == field


def test_an_admin_key_deactivates_a_console_user(client, db, keys):  # noqa: F811
    with db.write() as session:
        user_id = create_user(session, "asha", "correct horse battery", "viewer").id
    off = call(client, "patch", f"/api/v1/users/{user_id}", keys["admin"],
               json={"active": False})
    assert off.status_code == 200 and off.json["active"] is False
    bad = call(client, "patch", f"/api/v1/users/{user_id}", keys["admin"],
               json={"active": "no"})
    assert bad.status_code == 400 and bad.json["field"] == "active"
    assert call(client, "patch", "/api/v1/users/999999", keys["admin"],
                json={"active": True}).status_code == 404
