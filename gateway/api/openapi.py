"""The OpenAPI 3.0 document of /api/v1, kept by hand beside the routes.

tests/admin/test_api_openapi.py checks that it lists exactly the app's /api/v1 routes and
runs schemathesis against the app (no 500s, responses match these schemas).
"""
from __future__ import annotations

from typing import Any

from gateway.api.auth import scope_for
from gateway.api.public_openapi import PATHS as PUBLIC_PATHS
from gateway.api.public_openapi import SCHEMAS as PUBLIC_SCHEMAS
from gateway.healthworkers.openapi import PATHS as HEALTH_WORKER_PATHS
from gateway.storage.models import SQL_INTEGER_MAX
from gateway.text.i18n import LANGUAGES

_STR, _INT, _BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
_NSTR = {"type": "string", "nullable": True}


def _obj(props: dict[str, Any], required: list[str] | None = None, extra: bool = True
         ) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    if not extra:
        schema["additionalProperties"] = False
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _arr(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


SCHEMAS: dict[str, Any] = {
    # RFC 9457 problem details (gateway/web/problems.py), as application/problem+json
    "Error": _obj({"type": {"type": "string", "example": "urn:vaxgate:problem:invalid"},
                   "title": _STR, "status": _INT, "detail": _STR, "field": _STR},
                  ["type", "title", "status", "detail"]),
    "CenterIn": _obj({
        "code": {"type": "string", "pattern": "^[A-Za-z0-9_-]{2,16}$"},
        "name": {"type": "string", "minLength": 2, "maxLength": 80},
        "state": {"type": "string", "minLength": 2, "maxLength": 40},
        "district": {"type": "string", "minLength": 2, "maxLength": 40},
        "pincode": {"type": "string", "pattern": "^[1-9][0-9]{5}$"},
        "address": {"type": "string", "maxLength": 300}, "active": _BOOL},
        ["code", "name", "state", "district", "pincode"]),
    "Center": _obj({"id": _INT, "code": _STR, "name": _STR, "state": _STR, "district": _STR,
                    "pincode": _STR, "address": _STR, "active": _BOOL},
                   ["id", "code", "name", "state", "district", "pincode", "active"]),
    "SlotIn": _obj({
        "date": {"type": "string", "format": "date"},
        "start_time": {"type": "string", "example": "09:00"},
        "end_time": {"type": "string", "example": "11:00"},
        "age_group": {"type": "string", "enum": ["18-44", "45+"]},
        "vaccine": _STR, "capacity": {"type": "integer", "minimum": 0, "maximum": 10000}},
        ["date", "start_time", "end_time", "age_group", "capacity"]),
    "Slot": _obj({"id": _INT, "center_id": _INT, "date": _STR, "start_time": _STR,
                  "end_time": _STR, "age_group": _STR, "vaccine": _STR, "capacity": _INT,
                  "booked": _INT}, ["id", "center_id", "date", "capacity", "booked"]),
    "BulkSlotsIn": _obj({
        "date_from": {"type": "string", "format": "date"},
        "date_to": {"type": "string", "format": "date"},
        "windows": _arr(_arr(_STR)), "age_groups": _arr(_STR), "vaccine": _STR,
        "capacity": {"type": "integer", "minimum": 1}, "weekdays": _arr(_INT)},
        ["date_from", "date_to", "windows", "capacity"]),
    "BulkResult": _obj({"created": _INT, "skipped": _INT}, ["created", "skipped"]),
    "Message": _obj({"id": _INT, "created_at": _STR, "phone": _STR, "kind": _STR,
                     "status": _STR, "provider": _STR, "lang": _STR, "segments": _INT,
                     "body": _STR, "status_reason": _STR,
                     "attempts": _arr(_obj({"provider": _STR, "outcome": _STR, "error": _STR,
                                            "error_code": _STR, "latency_ms": _INT,
                                            "at": _STR}))},
                    ["id", "phone", "status", "attempts"]),
    "MenuVersion": _obj({"id": _INT, "version": _STR, "author": _STR, "note": _STR,
                         "created_at": _STR}, ["id", "version", "author", "created_at"]),
    "Stats": _obj({"totals": _obj({"registrations": _INT, "bookings": _INT}),
                   "per_hour": {"type": "object"}, "slot_fill": _arr({"type": "object"}),
                   "sms": _arr({"type": "object"}), "reminders": {"type": "object"},
                   "upstream": {"type": "object"}, "queues": {"type": "object"},
                   "circuits": {"type": "object"}}, ["totals", "per_hour", "slot_fill"]),
    "User": _obj({"id": _INT, "username": _STR, "role": _STR, "district": _NSTR,
                  "state": _NSTR, "active": _BOOL}, ["id", "username", "role", "active"]),
    "AuditEntry": _obj({"id": _INT, "at": _STR, "actor": _STR, "action": _STR,
                        "target": _STR, "before": _STR, "after": _STR}),
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": _ref("Error")}}}


ERRORS = {code: _problem(text) for code, text in {
    "400": "bad input: the field is named", "401": "no valid API key",
    "403": "the key's role cannot do this", "404": "not found (or not in your district)"}.items()}


def _op(summary: str, ok: dict[str, Any], *, ok_code: str = "200", body: str | None = None,
        params: list[dict[str, Any]] | None = None, extra: dict[str, Any] | None = None
        ) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {ok_code: _json(ok),
                                                                   **ERRORS, **(extra or {})}}
    if body:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _ref(body)}}}
    if params:
        operation["parameters"] = params
    return operation


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": SQL_INTEGER_MAX}}


def _query(name: str, fmt: str | None = None) -> dict[str, Any]:
    schema = {"type": "string", **({"format": fmt} if fmt else {})}
    return {"name": name, "in": "query", "required": False, "schema": schema}


# cursor pagination of every list (gateway/api/pages.py)
PAGE = [_query("cursor"), {"name": "limit", "in": "query", "required": False,
                           "schema": {"type": "integer", "minimum": 1, "maximum": 500}}]


def _page(name: str, item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A page of a list: the items and the cursor of the next page (null on the last)."""
    return _obj({**extra, name: _arr(item), "next_cursor": _NSTR}, [name, "next_cursor"])


CENTER_ID, SLOT_ID, VERSION_ID = _path_id("center_id"), _path_id("slot_id"), \
    _path_id("version_id")
_KIND = {"name": "kind", "in": "path", "required": True,
         "schema": {"type": "string", "enum": ["centers", "slots"]}}
_SCOPE_LIST = _arr({"type": "string", "enum": ["read", "write", "otp:send"]})
_KEY = _obj({"id": _INT, "name": _STR, "prefix": _STR, "role": _STR, "district": _NSTR,
             "state": _NSTR, "scopes": _SCOPE_LIST, "created_by": _STR,
             "revoked": {"type": "boolean"}, "key": _STR},
            ["id", "name", "prefix", "role", "revoked"])
OTP_KEYS = _obj({"transaction_id": _STR, "expires_at": _STR, "expires_in": _INT})

PATHS: dict[str, Any] = {
    "/api/v1/centers": {
        "get": _op("Search centers (in id order)", _page("centers", _ref("Center")),
                   params=[_query("q"), _query("state"), _query("district"), *PAGE]),
        "post": _op("Create a center", _ref("Center"), ok_code="201", body="CenterIn")},
    "/api/v1/centers/{center_id}": {
        "get": _op("One center", _ref("Center"), params=[CENTER_ID]),
        "put": _op("Update a center (deactivate with active: false)", _ref("Center"),
                   body="CenterIn", params=[CENTER_ID])},
    "/api/v1/centers/{center_id}/slots": {
        "get": _op("A center's slots (in id order)", _page("slots", _ref("Slot")),
                   params=[CENTER_ID, _query("from", "date"), _query("to", "date"), *PAGE]),
        "post": _op("Add one slot", _ref("Slot"), ok_code="201", body="SlotIn",
                    params=[CENTER_ID])},
    "/api/v1/centers/{center_id}/slots/bulk": {
        "post": _op("Create slots over a date range and time windows", _ref("BulkResult"),
                    ok_code="201", body="BulkSlotsIn", params=[CENTER_ID])},
    "/api/v1/slots/{slot_id}": {
        "patch": {**_op("Change a slot's capacity (never below what is booked)", _ref("Slot"),
                        params=[SLOT_ID], extra={"409": _problem("capacity below booked")}),
                  "requestBody": {"required": True, "content": {"application/json": {
                      "schema": _obj({"capacity": {"type": "integer", "minimum": 0}},
                                     ["capacity"])}}}}},
    "/api/v1/messages": {
        "get": _op("Search the SMS ledger by phone or booking reference (newest first)",
                   _page("messages", _ref("Message")), params=[_query("q"), *PAGE])},
    "/api/v1/stats": {"get": _op("The drive, live", _ref("Stats"))},
    "/api/v1/menus/versions": {
        "get": _op("Published menu versions (newest first)",
                   _page("versions", _ref("MenuVersion"), live=_STR), params=PAGE),
        "post": {**_op("Check and publish menu files", _ref("MenuVersion"), ok_code="201",
                       extra={"422": _problem("the menus have problems")}),
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": _obj({"files": {"type": "object",
                                               "additionalProperties": _STR},
                                     "note": _STR}, ["files"])}}}}},
    "/api/v1/menus/versions/{version_id}/rollback": {
        "post": _op("Publish an earlier version again", _ref("MenuVersion"), ok_code="201",
                    params=[VERSION_ID])},
    "/api/v1/export/{kind}.csv": {"get": {
        **_op("Centers or slots as CSV", {}, params=[_KIND]),
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": _STR}}},
                      **ERRORS}}},
    "/api/v1/import/{kind}": {"post": {
        **_op("Import centers or slots from CSV (all rows or none)", _obj(
            {"created": _INT, "updated": _INT}), params=[_KIND]),
        "requestBody": {"required": True, "content": {"text/csv": {"schema": _STR}}}}},
    "/api/v1/users": {
        "get": _op("Console users (admins)", _page("users", _ref("User")), params=PAGE),
        "post": {**_op("Add a console user", _ref("User"), ok_code="201"),
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": _obj({"username": _STR, "password": _STR,
                                     "role": {"type": "string",
                                              "enum": ["admin", "district", "viewer"]},
                                     "district": _NSTR, "state": _NSTR},
                                    ["username", "password", "role"])}}}}},
    "/api/v1/users/{user_id}": {
        "patch": {**_op("Deactivate or reactivate a console user", _ref("User"),
                        params=[_path_id("user_id")],
                        extra={"409": _problem("the last active admin stays active")}),
                  "requestBody": {"required": True, "content": {"application/json": {
                      "schema": _obj({"active": {"type": "boolean"}}, ["active"])}}}}},
    "/api/v1/keys": {
        "get": _op("API keys (prefix only, never the key; newest first)", _page("keys", _KEY),
                   params=PAGE),
        "post": {**_op("Create an API key (the key is returned once)", _KEY, ok_code="201"),
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": _obj({"name": _STR, "role": {
                         "type": "string", "enum": ["admin", "district", "viewer"]},
                         "district": _NSTR, "state": _NSTR, "scopes": _SCOPE_LIST},
                        ["name", "role"])}}}}},
    "/api/v1/keys/{key_id}": {
        "delete": _op("Revoke an API key", _KEY, params=[_path_id("key_id")])},
    "/api/v1/audit": {
        "get": _op("The audit log (admins; newest first)",
                   _page("entries", _ref("AuditEntry")), params=[_query("action"), *PAGE])},
    "/api/v1/otp": {
        "post": {**_op("Send a one-time password by SMS", OTP_KEYS, ok_code="201",
                       extra={"429": _problem("too many requests")}),
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": _obj({"phone": _STR, "lang": {"type": "string",
                                                             "enum": list(LANGUAGES)}},
                                    ["phone"])}}}}},
    "/api/v1/otp/verify": {
        "post": {**_op("Verify a one-time password", _obj({"verified": _BOOL}),
                       extra={"429": _problem("too many attempts")}),
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": _obj({"transaction_id": _STR, "code": _STR},
                                    ["transaction_id", "code"])}}}}},
}

# Routes of the reminders blueprint (gateway/reminders/api.py), documented here so the one
# document covers every /api/v1 route.
_DISTRICT = {"name": "district", "in": "path", "required": True, "schema": {"type": "string"}}
_DAY_LIST = {"description": "the day list", "content": {
    "application/json": {"schema": _obj({"center": {"type": "object"}, "date": _STR,
                                         "appointments": _arr({"type": "object"})})},
    "text/csv": {"schema": _STR}, "text/html": {"schema": _STR},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
_DAYS_BODY = {"required": False, "content": {"application/json": {
    "schema": _obj({"days": {"type": "integer", "minimum": 1}})}}}
PATHS.update({
    "/api/v1/centers/{center_id}/day-list": {"get": {
        **_op("A center's appointments on a date, with reminder status", {}, params=[
            CENTER_ID, {**_query("date", "date"), "required": True},
            {"name": "format", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["json", "csv", "html", "pdf"]}}]),
        "responses": {"200": _DAY_LIST, **ERRORS}}},
    "/api/v1/districts/{district}/reminders": {
        "get": _op("Who was reached: reminder outcomes in a district",
                   _obj({"district": _STR, "state": _NSTR, "appointments": _INT,
                         "delivered": _INT,
                         "pending": _INT, "failed": _INT, "not_sent": _INT,
                         "reasons": {"type": "object"}}),
                   params=[_DISTRICT, _query("state"),
                           {"name": "days", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 1}}])},
    "/api/v1/districts/{district}/reminders/resend": {
        "post": {**_op("Re-send a reminder to those not reached", _obj(
            {"district": _STR, "state": _NSTR, "resent": _INT}), ok_code="202",
            params=[_DISTRICT, _query("state")]),
            "requestBody": _DAYS_BODY}},
    "/api/v1/phone-history": {
        "post": {**_op("Every message to a phone, with every attempt (newest first)",
                       _page("messages", {"type": "object"}, phone=_STR), params=PAGE),
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": _obj({"phone": _STR}, ["phone"])}}}}},
})
PATHS.update(HEALTH_WORKER_PATHS)  # gateway/healthworkers/api.py
PATHS.update(PUBLIC_PATHS)  # gateway/api/public.py: no key
SCHEMAS.update(PUBLIC_SCHEMAS)


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "vaxgate API", "version": "1",
                 "description": "Centers, slots, messages, menus and the drive's figures. "
                                "Authenticate with an API key in X-API-Key; the "
                                "/api/v1/public operations (free slots, Co-WIN's shapes) "
                                "need none. Every error is an RFC 9457 problem "
                                "(application/problem+json)."},
        "paths": _with_scopes(PATHS),
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                       "description": SCOPES_TEXT}}},
        "security": [{"apiKey": []}],
    }


SCOPES_TEXT = ("A key has scopes: `read` (GET, and POST /api/v1/phone-history), `write` "
               "(every other method) and `otp:send` (POST /api/v1/otp and /api/v1/otp/verify). "
               "A new key gets its role's defaults, read for a viewer and read+write "
               "otherwise; otp:send must be asked for. Each operation names its scope in "
               "`x-required-scope`.")


def _with_scopes(paths: dict[str, Any]) -> dict[str, Any]:
    """Each operation marked with the key scope it needs (``x-required-scope``); the public
    ones need no key (``security: []``)."""
    return {path: {method: op if op.get("security") == [] else
                   {**op, "x-required-scope": scope_for(path, method)}
                   for method, op in ops.items()} for path, ops in paths.items()}
