"""Every error of /api/v1 is one shape: RFC 9457 problem details as application/problem+json
(type, title, status, detail, and the field when one input is to blame)."""
from __future__ import annotations

import pytest

from gateway.web.problems import problem_type
from tests.admin.test_api import call, keys  # noqa: F401 - the fixture


@pytest.mark.parametrize("method, path, key, body, status, kind, field", [
    ("get", "/api/v1/centers", None, None, 401, "unauthorized", None),
    ("get", "/api/v1/audit", "district", None, 403, "forbidden", None),
    ("get", "/api/v1/centers/999", "admin", None, 404, "not_found", None),
    ("post", "/api/v1/centers", "admin", {"code": "A1"}, 400, "invalid", "name"),
    ("post", "/api/v1/health-workers", "admin", {}, 400, "invalid", "name"),
    ("get", "/api/v1/districts/Patna/reminders?days=x", "admin", None, 400, "invalid", "days"),
    ("post", "/api/v1/otp", "admin", {"phone": "12"}, 403, "forbidden", None),  # no otp:send
    ("get", "/api/v1/no-such-thing", "admin", None, 404, "not_found", None),
    ("delete", "/api/v1/centers", "admin", None, 405, "method_not_allowed", None),
    ("get", "/api/v1/public/sessions/findByPin?pincode=1", None, None, 400, "invalid",
     "pincode"),
])
def test_every_api_error_is_a_problem_document(
        client, keys, method, path, key, body, status, kind, field):  # noqa: F811
    kwargs = {"json": body} if body is not None else {}
    response = call(client, method, path, keys.get(key), **kwargs)
    problem = response.get_json()
    assert response.status_code == status, problem
    assert response.mimetype == "application/problem+json"
    assert problem["type"] == problem_type(kind) and problem["status"] == status
    assert problem["title"] and problem["detail"]
    assert problem.get("field") == field
