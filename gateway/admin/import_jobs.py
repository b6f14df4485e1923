"""Imports from the console as background jobs: paper registrations, centers, slots.

The upload is kept in Redis (``vaxgate:import:<id>:file``, a day) and an RQ job on
``bulk`` imports it, writing its progress (rows read, bytes read of the file's size) and
at the end its result into ``vaxgate:import:<id>``, which the console polls. Each upload
form carries a one-time token: a second submission of the same form (a double click, a
reload) finds the job of the first instead of starting another. Problems are shown in
plain words, one line per row with every problem of that row.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from rq import Queue

from gateway.imports.registrations import ImportRefused, import_registrations
from gateway.sms.context import context

from . import csvio
from .audit import record
from .auth import Principal

KINDS = {"registrations": "paper registrations", "centers": "centers", "slots": "slots"}
KEEP_S = 24 * 3600
PREFIX = "vaxgate:import:"
FIELD_WORDS = {"pincode": "PIN code", "code": "center code", "center_code": "center code",
               "birth_year": "birth year", "phone": "phone number", "id_type": "ID type",
               "id_last4": "last 4 digits of the ID", "vaccinated_on": "vaccination date",
               "start_time": "start time", "end_time": "end time", "age_group": "age group",
               "latitude": "latitude", "longitude": "longitude", "body": "the row"}
# pydantic's wording (centers and slots) -> plain words
PLAIN = ((re.compile(r"String should match pattern '\^\[1-9\]\\d\{5\}\$'"),
          "must have 6 digits and not start with 0"),
         (re.compile(r"String should match pattern .*"), "has characters that are not allowed"),
         (re.compile(r"Field required"), "is missing"),
         (re.compile(r"Input should be a valid integer.*"), "must be a whole number"),
         (re.compile(r"Input should be (in )?a valid date.*"), "must be a date like 2026-12-10"),
         (re.compile(r"Input should be (in )?a valid time.*"), "must be a time like 09:00"),
         (re.compile(r"Input should be greater than or equal to (\S+)"), r"must be \1 or more"),
         (re.compile(r"String should have at most (\d+) characters?"),
          r"may have at most \1 characters"))


class ImportJobError(ValueError):
    """The upload cannot be imported at all (no file, an unknown kind)."""


def new_token() -> str:
    """The one-time token of an upload form."""
    return secrets.token_urlsafe(16)


def start(conn, queue_conn, kind: str, data: bytes, who: Principal, token: str) -> str:
    """Keep the upload and enqueue its import; the job id (the first job's, for a form
    submitted twice)."""
    if kind not in KINDS:
        raise ImportJobError(f"cannot import {kind!r}")
    if not data.strip():
        raise ImportJobError("the file is empty: choose a CSV file")
    job_id = secrets.token_hex(8)
    first = conn.set(f"{PREFIX}token:{token[:40]}", job_id, nx=True, ex=KEEP_S)
    if not first:
        return _decode(conn.get(f"{PREFIX}token:{token[:40]}"))
    key = PREFIX + job_id
    pipe = conn.pipeline()
    pipe.set(f"{key}:file", data, ex=KEEP_S)
    pipe.hset(key, mapping={"kind": kind, "status": "waiting", "rows": 0, "read": 0,
                            "size": len(data), "by": who.name, "role": who.role,
                            "district": who.district or "", "state": who.state or ""})
    pipe.expire(key, KEEP_S)
    pipe.execute()
    Queue("bulk", connection=queue_conn).enqueue(run, job_id, job_timeout=1800)
    return job_id


def state(conn, job_id: str) -> dict[str, Any] | None:
    """The job's progress and, once done, its result (None: unknown or expired)."""
    raw = conn.hgetall(PREFIX + re.sub(r"[^0-9a-f]", "", job_id)[:16])
    if not raw:
        return None
    found = {_decode(k): _decode(v) for k, v in raw.items()}
    size = max(int(found["size"]), 1)
    found["percent"] = 100 if found["status"] == "done" else \
        min(99, int(found["read"]) * 100 // size)
    found["result"] = json.loads(found["result"]) if found.get("result") else None
    found["what"] = KINDS.get(found["kind"], found["kind"])
    return found


def visible_to(found: dict[str, Any], who: Principal) -> bool:
    """Admins see every import; others only their own."""
    return who.is_admin or found.get("by") == who.name


def run(job_id: str) -> dict[str, Any]:
    """The RQ job: import the kept upload, with progress and a result in plain words."""
    ctx = context()
    conn, key = ctx.redis, PREFIX + job_id
    found = state(conn, job_id)
    data = conn.get(f"{key}:file")
    if found is None or data is None:
        return {"status": "expired"}
    conn.hset(key, "status", "running")
    who = Principal(found["by"], found["role"], found["district"] or None,
                    state=found.get("state") or None)

    def progress(rows: int, read: int) -> None:
        conn.hset(key, mapping={"rows": rows, "read": read})

    try:
        result = _import(ctx, found["kind"], data, who, progress)
    except (ImportRefused, csv.Error, UnicodeError) as exc:
        result = {"summary": "Nothing was imported.", "problems": [_plain_refusal(exc)]}
    with ctx.db.write() as session:
        record(session, who.name, f"{found['kind']}.import", f"{found['kind']} CSV (console)",
               None, {"summary": result["summary"], "problems": len(result["problems"])})
    conn.hset(key, mapping={"status": "done", "read": found["size"],
                            "result": json.dumps(result, ensure_ascii=False)})
    conn.delete(f"{key}:file")
    return {"status": "done"}


def _import(ctx, kind: str, data: bytes, who: Principal, progress) -> dict[str, Any]:
    if kind == "registrations":
        today = dt.datetime.now(ZoneInfo(ctx.settings.timezone)).date()
        out = import_registrations(ctx.db, ctx.settings, io.BytesIO(data), today=today,
                                   progress=progress)
        _sync_upstream(ctx, out.beneficiary_ids)
        return {"summary": f"{out.rows} rows read: {out.registered} people registered, "
                           f"{out.duplicates} already registered, {out.vaccinations} paper "
                           f"vaccinations recorded, {len(out.rejected)} rows refused.",
                "problems": [plain_row(line, why) for line, why in out.rejected]}
    importer = csvio.import_centers if kind == "centers" else csvio.import_slots
    with ctx.db.write() as session:
        out = importer(session, who, data.decode("utf-8", "replace"), progress=progress)
    if out.errors:
        return {"summary": "Nothing was imported: fix these rows and upload the file again.",
                "problems": [plain_problem(e) for e in out.errors]}
    return {"summary": f"{out.created} {kind} created, {out.updated} updated.",
            "problems": []}


def _sync_upstream(ctx, beneficiary_ids: set[int]) -> None:
    from gateway.upstream import sweeper

    sweeper.enqueue_after_commit(ctx.queue_redis, ctx.settings, beneficiary_ids)


def plain_row(line: int, reasons: str) -> str:
    """``Row 4: PIN code: '8000' is not 6 digits starting 1-9; phone number: missing``."""
    return f"Row {line}: " + "; ".join(_plain_reason(r) for r in reasons.split("; "))


def plain_problem(error: str) -> str:
    """A centers/slots import error (``row 3: pincode: String should ...``) in words."""
    head, _, rest = error.partition(": ")
    if head.startswith("row "):
        return f"Row {head[4:]}: " + "; ".join(_plain_reason(r) for r in rest.split("; "))
    return error[:1].upper() + error[1:]


def _plain_reason(reason: str) -> str:
    field, _, message = reason.partition(": ")
    for pattern, words in PLAIN:
        message = pattern.sub(words, message)
    return f"{FIELD_WORDS.get(field, field.replace('_', ' '))}: {message}"


def _plain_refusal(exc: Exception) -> str:
    if isinstance(exc, ImportRefused):
        return f"The file cannot be imported: {exc}."
    return f"The file is not a readable CSV file ({exc}). Save it as CSV (UTF-8) and retry."


def _decode(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value
