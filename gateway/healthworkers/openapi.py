"""OpenAPI paths of gateway/healthworkers/api.py, merged into /api/v1/openapi.json."""
from __future__ import annotations

from typing import Any

from gateway.storage.models import SQL_INTEGER_MAX

_OBJ = {"type": "object"}
_ERROR = {"description": "error", "content": {"application/problem+json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}
_ERRORS = {code: _ERROR for code in ("400", "401", "403", "404")}


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": SQL_INTEGER_MAX}}


def _op(summary: str, *, ok: str = "200", params: list | None = None,
        body: dict | None = None, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {
        ok: {"description": "ok", "content": {"application/json": {"schema": _OBJ}}},
        **_ERRORS, **{code: _ERROR for code in extra}}}
    if params:
        operation["parameters"] = params
    if body:
        operation["requestBody"] = {"required": True, "content": body}
    return operation


_WORKER_IN = {"application/json": {"schema": {
    "type": "object", "required": ["name", "phone", "center_code"],
    "properties": {"name": {"type": "string"}, "phone": {"type": "string"},
                   "center_code": {"type": "string"}, "district": {"type": "string"}}}}}
_CSV = {"text/csv": {"schema": {"type": "string"}}}
_STATUS = {"name": "status", "in": "query", "required": False, "schema": {
    "type": "string", "enum": ["pending", "sent", "parked", "not_required"]}}

# cursor pagination (gateway/api/pages.py): the page after ``cursor``, ``limit`` rows
_PAGE = [{"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
         {"name": "limit", "in": "query", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": 500}}]

PATHS: dict[str, Any] = {
    "/api/v1/health-workers": {
        "get": _op("Health-worker accounts (with PIN lock state)", params=_PAGE),
        "post": _op("Create a health-worker account", ok="201", body=_WORKER_IN)},
    "/api/v1/health-workers/{worker_id}/unlock": {
        "post": _op("End a PIN lock early", params=[_id("worker_id")])},
    "/api/v1/health-workers/{worker_id}/actions": {
        "get": _op("What a health worker did: who, phone, channel, when",
                   params=[_id("worker_id"), *_PAGE])},
    "/api/v1/imports": {
        "post": _op("Import paper registrations (CSV); every rejected row with its line",
                    body=_CSV, extra=("413",))},
    "/api/v1/upstream/backlog": {
        "get": _op("Upstream sync backlog: counts, oldest pending age, last error")},
    "/api/v1/upstream/events": {
        "get": _op("Upstream events by status (parked by default)",
                   params=[_STATUS, *_PAGE])},
    "/api/v1/upstream/events/{event_id}/resend": {
        "post": _op("Send a parked event again", params=[_id("event_id")])},
}
