"""Every export of data (CSV downloads, day lists, a phone's messages) writes an audit row
naming who took it and what: action ``export``, the user or key as actor, the export as
target. A phone number searched for is kept masked."""
from __future__ import annotations

import json

from sqlalchemy import select

from gateway.admin.models import AuditEntry
from gateway.text.phones import mask_phone
from tests.security.support import OWN, PEOPLE

PHONE = PEOPLE[OWN][1]


def _exports(db) -> list[AuditEntry]:
    with db.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "export")
                                    .order_by(AuditEntry.id)))


# (who, method, path, body, actor, target, detail that must be in the row)
EXPORTS = [
    ("console", "get", "/admin/export/centers.csv", None, "patna", "centers.csv", {}),
    ("console", "get", "/admin/export/slots.csv", None, "patna", "slots.csv", {}),
    ("console", "get", f"/admin/messages?export=1&q={PHONE.replace('+', '%2B')}", None,
     "patna", "sms.csv", {"query": mask_phone(PHONE), "rows": 1}),
    ("api", "get", "/api/v1/export/centers.csv", None, "api-key:patna key", "centers.csv", {}),
    ("api", "get", "/api/v1/export/slots.csv", None, "api-key:patna key", "slots.csv", {}),
    ("api", "get", "/api/v1/centers/{own_center}/day-list?date={day}&format=csv", None,
     "api-key:patna key", "day list {own_code}", {"format": "csv"}),
    ("api", "get", "/api/v1/centers/{own_center}/day-list?date={day}", None,
     "api-key:patna key", "day list {own_code}", {"format": "json"}),
    ("api", "post", "/api/v1/phone-history", {"phone": PHONE}, "api-key:patna key",
     "phone history", {"phone": mask_phone(PHONE), "messages": 1}),
]


def test_each_export_writes_an_audit_row_naming_the_user_and_the_export(
        client, auth, keys, db, seeded):
    auth.login("patna")
    problems = []
    for who, method, path, body, actor, target, detail in EXPORTS:
        path = path.format(own_center=seeded.center_id[OWN], day=seeded.day.isoformat())
        headers = {"X-API-Key": keys["patna"]} if who == "api" else {}
        before = len(_exports(db))
        response = getattr(client, method)(path, json=body, headers=headers)
        response.get_data()  # a streamed CSV is produced now
        rows = _exports(db)[before:]
        if response.status_code != 200 or len(rows) != 1:
            problems.append(f"{path}: {response.status_code}, {len(rows)} export rows")
            continue
        row, target = rows[0], target.format(own_code=seeded.center_code[OWN])
        recorded = json.loads(row.after)
        if (row.actor, row.target) != (actor, target) or not detail.items() <= recorded.items():
            problems.append(f"{path}: recorded {row.actor!r} {row.target!r} {recorded}")
        if PHONE in row.after or PHONE[-10:] in row.after:
            problems.append(f"{path}: the audit row holds the full phone number")
    assert not problems, "\n".join(problems)


def test_a_deployment_key_export_is_recorded_as_the_deployment_key(
        client, db, seeded, monkeypatch):
    monkeypatch.setenv("VAXGATE_API_KEYS", "deploy-secret-1")  # otp.api_keys_env's default
    response = client.post("/api/v1/phone-history", json={"phone": PHONE},
                           headers={"X-API-Key": "deploy-secret-1"})
    assert response.status_code == 200
    assert [(r.actor, r.target) for r in _exports(db)] == [("deployment key", "phone history")]


def test_looking_without_exporting_writes_no_export_row(client, auth, db, seeded):
    auth.login("patna")
    assert client.get("/admin/messages").status_code == 200
    assert client.get("/admin/centers").status_code == 200
    assert _exports(db) == []

