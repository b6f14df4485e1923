"""``/api/v1/public``: free slots for partner apps, keyless, in Co-WIN's public API shapes.

    GET /api/v1/public/location/states
    GET /api/v1/public/location/districts/<state_id>
    GET /api/v1/public/sessions/findByPin?pincode=800020&date=07-12-2026
    GET /api/v1/public/sessions/findByDistrict?district_id=114&date=07-12-2026
    GET /api/v1/public/sessions/calendarByPin?pincode=800020&date=07-12-2026
    GET /api/v1/public/sessions/calendarByDistrict?district_id=114&date=07-12-2026

No key and no personal data. Each client address may ask ``public_api.rate_limit_per_source``
times per window (429 past it); every answer comes from a Redis copy at most
``public_api.cache_seconds`` old, with an ``ETag`` (``If-None-Match`` gets a 304) and
``Cache-Control: public, max-age=…``, so a slot-finder app polling every few seconds costs
one Redis round trip, never a SQL query. The counting and the cache read are one script.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, request
from sqlalchemy.orm import Session

from gateway.api import cowin
from gateway.api.errors import error
from gateway.storage import SQL_INTEGER_MAX
from gateway.web.runtime import get_runtime

bp = Blueprint("public_api", __name__, url_prefix="/api/v1/public")
PREFIX = "vaxgate:{public}:"  # one hash tag: the script's two keys share a Cluster slot
_COUNT_AND_READ = """
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[2])}
"""
Build = Callable[[Session], dict | None]


class BadParameter(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@bp.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter) -> Response:
    return error(400, "invalid", f"{exc.field}: {exc}", field=exc.field)


@bp.get("/location/states")
def states() -> Response:
    return _answer("states", cowin.states)


@bp.get("/location/districts/<int:state_id>")
def districts(state_id: int) -> Response:
    return _answer(f"districts:{state_id}", lambda session: cowin.districts(session, state_id),
                   missing=f"no state {state_id}")


@bp.get("/sessions/findByPin")
def find_by_pin() -> Response:
    pincode, day = _pincode(), _date()
    return _answer(f"pin:{pincode}:{day}", lambda session: cowin.find_sessions(
        session, cowin.by_pincode(pincode), day))


@bp.get("/sessions/findByDistrict")
def find_by_district() -> Response:
    district_id, day = _district_id(), _date()
    return _answer(f"district:{district_id}:{day}", lambda session: cowin.find_sessions(
        session, cowin.in_district(session, district_id), day))


@bp.get("/sessions/calendarByPin")
def calendar_by_pin() -> Response:
    pincode, day = _pincode(), _date()
    return _answer(f"calendar-pin:{pincode}:{day}", lambda session: cowin.calendar(
        session, cowin.by_pincode(pincode), day))


@bp.get("/sessions/calendarByDistrict")
def calendar_by_district() -> Response:
    district_id, day = _district_id(), _date()
    return _answer(f"calendar-district:{district_id}:{day}", lambda session: cowin.calendar(
        session, cowin.in_district(session, district_id), day))


def _pincode() -> str:
    value = request.args.get("pincode", "").strip()
    if not (value.isascii() and value.isdigit() and len(value) == 6 and value[0] != "0"):
        raise BadParameter("pincode", "must be a 6-digit PIN code such as 800020")
    return value


def _district_id() -> int:
    value = request.args.get("district_id", "").strip()
    if not (value.isascii() and value.isdigit() and 0 < int(value) <= SQL_INTEGER_MAX):
        raise BadParameter("district_id", "must be a district id from "
                                          "/api/v1/public/location/districts/{state_id}")
    return int(value)


def _date() -> dt.date:
    """``date`` as DD-MM-YYYY (Co-WIN's form); today in the deployment's zone if absent."""
    value = request.args.get("date", "").strip()
    if not value:
        return dt.datetime.now(ZoneInfo(get_runtime().settings.timezone)).date()
    try:
        return dt.datetime.strptime(value, "%d-%m-%Y").date()
    except ValueError:
        raise BadParameter("date", "must be a date as DD-MM-YYYY, e.g. 07-12-2026") from None


def _answer(name: str, build: Build, missing: str = "not found") -> Response:
    """The cached answer for ``name`` (built and cached on a miss; ``missing``: the 404's
    detail when ``build`` finds nothing), rate-limited per source."""
    runtime = get_runtime()
    rules = runtime.settings.public_api
    limit, window_s = rules.rate_limit()
    source = request.remote_addr or "-"
    count, reset_ms, cached = _count_and_read(runtime.redis)(
        keys=[f"{PREFIX}rate:{source}", f"{PREFIX}answer:{name}"], args=[window_s * 1000])
    if int(count) > limit:
        refused = error(429, "rate_limited", f"at most {rules.rate_limit_per_source} per "
                                             "client address; try again later")
        refused.headers["Retry-After"] = str(max(1, -(-int(reset_ms) // 1000)))
        return refused
    if cached is None:
        with runtime.db.read() as session:
            body = build(session)
        if body is None:
            return error(404, "not_found", missing)
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        cached = _tag(text).encode() + b"\n" + text.encode()
        runtime.redis.set(f"{PREFIX}answer:{name}", cached, ex=rules.cache_seconds)
    etag, _, text = cached.partition(b"\n")
    return _send(etag.decode(), text, rules.cache_seconds)


@functools.lru_cache(maxsize=8)
def _count_and_read(client):
    """The script, registered once per Redis client (then sent by its SHA1)."""
    return client.register_script(_COUNT_AND_READ)


def _tag(text: str) -> str:
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'


def _send(etag: str, text: bytes, max_age: int) -> Response:
    """200 with the body, or 304 when the client already holds this version."""
    fresh = etag.strip('"') in request.if_none_match
    response = Response(b"" if fresh else text, status=304 if fresh else 200,
                        mimetype="application/json")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, no credentials
    return response
