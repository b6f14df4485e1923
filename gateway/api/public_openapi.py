"""OpenAPI paths and schemas of gateway/api/public.py, merged into /api/v1/openapi.json.
They need no key: each operation says so with ``security: []``."""
from __future__ import annotations

from typing import Any

from gateway.storage.models import SQL_INTEGER_MAX

_STR, _INT = {"type": "string"}, {"type": "integer"}
_NUM = {"type": "number", "nullable": True}


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_SESSION = {"session_id": _STR, "date": {"type": "string", "example": "07-12-2026"},
            "available_capacity": _INT, "min_age_limit": _INT, "vaccine": _STR,
            "from": _STR, "to": _STR, "fee": _STR,
            "slots": {"type": "array", "items": _STR}}
_CENTER = {"center_id": _INT, "name": _STR, "address": _STR, "state_name": _STR,
           "district_name": _STR, "block_name": _STR, "pincode": _INT, "lat": _NUM,
           "long": _NUM, "fee_type": {"type": "string", "enum": ["Free", "Paid"]}}
_CENTER_REQUIRED = ["center_id", "name", "state_name", "district_name", "pincode"]
_SESSION_REQUIRED = ["session_id", "date", "available_capacity", "min_age_limit", "vaccine",
                     "slots"]

SCHEMAS: dict[str, Any] = {
    "PublicStates": _obj({"states": {"type": "array", "items": _obj(
        {"state_id": _INT, "state_name": _STR}, ["state_id", "state_name"])}, "ttl": _INT},
        ["states"]),
    "PublicDistricts": _obj({"districts": {"type": "array", "items": _obj(
        {"district_id": _INT, "district_name": _STR}, ["district_id", "district_name"])},
        "ttl": _INT}, ["districts"]),
    "PublicSessions": _obj({"sessions": {"type": "array", "items": _obj(
        {**_CENTER, **_SESSION}, _CENTER_REQUIRED + _SESSION_REQUIRED)}}, ["sessions"]),
    "PublicCalendar": _obj({"centers": {"type": "array", "items": _obj(
        {**_CENTER, "from": _STR, "to": _STR,
         "sessions": {"type": "array", "items": _obj(_SESSION, _SESSION_REQUIRED)}},
        _CENTER_REQUIRED + ["sessions"])}}, ["centers"]),
}

_PROBLEM = {"content": {"application/problem+json": {"schema": _ref("Error")}}}
_CACHED = {"ETag": {"schema": _STR}, "Cache-Control": {"schema": _STR}}
_DATE = {"name": "date", "in": "query", "required": False,
         "description": "DD-MM-YYYY (Co-WIN's form); today when absent",
         "schema": {"type": "string", "pattern": "^[0-9]{2}-[0-9]{2}-[0-9]{4}$",
                    "example": "07-12-2026"}}
_PINCODE = {"name": "pincode", "in": "query", "required": True,
            "schema": {"type": "string", "pattern": "^[1-9][0-9]{5}$", "example": "800020"}}
_DISTRICT_ID = {"name": "district_id", "in": "query", "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": SQL_INTEGER_MAX}}
_STATE_ID = {"name": "state_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": SQL_INTEGER_MAX}}


def _op(summary: str, schema: str, params: list[dict[str, Any]],
        not_found: bool = False) -> dict[str, Any]:
    responses = {
        "200": {"description": "OK", "headers": _CACHED,
                "content": {"application/json": {"schema": _ref(schema)}}},
        "304": {"description": "not modified (If-None-Match held the ETag)",
                "headers": _CACHED},
        "400": {"description": "bad parameter: the field is named", **_PROBLEM},
        "429": {"description": "too many requests from this address (Retry-After)",
                **_PROBLEM}}
    if not_found:
        responses["404"] = {"description": "no such state", **_PROBLEM}
    return {"get": {"summary": summary, "tags": ["public"], "security": [],
                    "parameters": params, "responses": responses}}


PATHS: dict[str, Any] = {
    "/api/v1/public/location/states": _op("States and union territories (no key)",
                                          "PublicStates", []),
    "/api/v1/public/location/districts/{state_id}": _op(
        "Districts of a state (no key)", "PublicDistricts", [_STATE_ID], not_found=True),
    "/api/v1/public/sessions/findByPin": _op(
        "Sessions at a PIN code on a date (no key)", "PublicSessions", [_PINCODE, _DATE]),
    "/api/v1/public/sessions/findByDistrict": _op(
        "Sessions in a district on a date (no key)", "PublicSessions", [_DISTRICT_ID, _DATE]),
    "/api/v1/public/sessions/calendarByPin": _op(
        "Seven days of sessions at a PIN code, by center (no key)", "PublicCalendar",
        [_PINCODE, _DATE]),
    "/api/v1/public/sessions/calendarByDistrict": _op(
        "Seven days of sessions in a district, by center (no key)", "PublicCalendar",
        [_DISTRICT_ID, _DATE]),
}
