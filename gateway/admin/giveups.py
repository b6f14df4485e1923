"""Where callers give up: per menu screen and language, how many USSD sessions ended there
without finishing, for the dashboard's last hour and last day.

Two ways a session ends unfinished, each counted once per session:

- the menu ended it after too many invalid answers (the USSD adapter calls
  :func:`note_step` after each step; it does nothing unless that step ended so);
- the caller hung up, the network dropped or the session timed out: Africa's Talking posts
  its end-of-session notification to ``POST /ussd/africastalking/ended`` (set it as the
  service's "session notification" URL) with ``status`` ``Incomplete`` or ``Failed``; the
  session's stored state says on which screen and in which language it stopped.

Counts are Redis hashes per 10-minute bucket (``vaxgate:giveups:<bucket>``, field
``screen|lang|reason``), kept two days: figures that may expire, written only when a
session gives up, never on an ordinary step. The dashboard's funnel also shows the USSD
sessions started ("dialled"), which the session store counts (``opened_since``).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import Blueprint, request
from redis.exceptions import RedisError

from gateway.sessions.store import SessionStore, opened_since
from gateway.text.phones import InvalidPhone, parse_phone
from gateway.web.runtime import get_runtime
from gateway.web.webhook_security import ussd_source_refusal

log = logging.getLogger(__name__)

BUCKET_S = 600
KEEP_S = 2 * 24 * 3600
PREFIX = "vaxgate:giveups:"
TOO_MANY_INVALID = "session.too_many_invalid"  # flows/engine.py's shared end screen
REASONS = {"too_many_invalid": "too many invalid answers",
           "Incomplete": "hung up or timed out", "Failed": "network dropped the session"}
NOT_CHOSEN = "not chosen yet"

bp = Blueprint("giveups", __name__)


def record(conn, screen: str, lang: str, reason: str, session_id: str,
           now: dt.datetime | None = None) -> bool:
    """Count one give-up (once per session: a second report of it is ignored)."""
    if not conn.set(f"{PREFIX}seen:{session_id}", 1, nx=True, ex=KEEP_S):
        return False
    key = f"{PREFIX}{_bucket(now)}"
    pipe = conn.pipeline(transaction=False)
    pipe.hincrby(key, f"{screen}|{lang or NOT_CHOSEN}|{reason}", 1)
    pipe.expire(key, KEEP_S)
    pipe.execute()
    return True


def _bucket(now: dt.datetime | None) -> int:
    return int((now or dt.datetime.now(dt.UTC)).timestamp()) // BUCKET_S


def where(record: dict | None) -> tuple[str, str] | None:
    """(screen, language) of a stored USSD session before a step (None for a new one)."""
    if not record:
        return None
    state = record["state"]
    return state.get("screen", "?"), state.get("vars", {}).get("lang") or ""


def note_step(conn, session_id: str, before: tuple[str, str] | None,
              after: dict | None) -> None:
    """After a step that ended a USSD session: count a give-up when the menu ended it for
    too many invalid answers, at the screen the caller was on (``before``)."""
    if before is None or not after or after["state"].get("screen") != TOO_MANY_INVALID:
        return
    try:
        record(conn, *before, REASONS["too_many_invalid"], session_id)
    except RedisError as exc:  # a figure lost, never a caller's answer
        log.warning("USSD figure not counted: %s", exc)


def dialled(conn, since: dt.datetime, now: dt.datetime | None = None) -> int:
    """USSD sessions started since ``since`` (at most two days back)."""
    return opened_since(conn, "ussd", since, now)


def summary(conn, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Per screen, language and reason: give-ups in the last hour and the last day, the
    most given-up first."""
    top = _bucket(now)
    buckets = range(top - 24 * 3600 // BUCKET_S + 1, top + 1)
    pipe = conn.pipeline(transaction=False)
    for b in buckets:
        pipe.hgetall(f"{PREFIX}{b}")
    rows: dict[str, dict[str, Any]] = {}
    for b, found in zip(buckets, pipe.execute(), strict=True):
        for field, count in found.items():
            name = field.decode() if isinstance(field, bytes) else field
            screen, lang, reason = name.split("|", 2)
            row = rows.setdefault(name, {"screen": screen, "lang": lang, "reason": reason,
                                         "hour": 0, "day": 0})
            row["day"] += int(count)
            if b > top - 3600 // BUCKET_S:
                row["hour"] += int(count)
    return sorted(rows.values(), key=lambda r: (-r["day"], -r["hour"], r["screen"]))


@bp.post("/ussd/africastalking/ended")
def session_ended():
    """Africa's Talking's end-of-session notification: count an unfinished session where
    it stopped. Always 200 for a well-formed one, so the aggregator does not retry."""
    runtime = get_runtime()
    why = ussd_source_refusal(runtime.settings, request.remote_addr,
                              request.args.get("secret", ""))
    if why is not None:
        return "Forbidden.", 403
    form = request.form
    session_id, status = form.get("sessionId", "")[:100], form.get("status", "")
    try:
        phone = parse_phone(form.get("phoneNumber", ""))
    except InvalidPhone:
        return "phoneNumber: not a phone number", 400
    if not session_id:
        return "sessionId: missing", 400
    if status in ("Incomplete", "Failed"):
        _count_unfinished(runtime, session_id, phone, REASONS[status])
    return "", 200


def _count_unfinished(runtime, session_id: str, phone: str, reason: str) -> None:
    ussd = runtime.settings.ussd
    store = SessionStore(runtime.redis, "ussd", ussd.session_ttl_seconds
                         + ussd.resume_window_seconds, ussd.resume_window_seconds)
    try:
        kept = store.load(session_id, phone)
        if kept is None or kept["state"].get("done"):
            return  # unknown, expired or finished: nothing to say where it stopped
        state = kept["state"]
        record(runtime.redis, state.get("screen", "?"),
               state.get("vars", {}).get("lang") or "", reason, session_id)
    except RedisError as exc:
        log.warning("give-up not counted: %s", exc)
