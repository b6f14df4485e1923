"""CSV export and import of centers and slots, with an error per bad row.

An import is all or nothing: every row is checked (and tried, inside a savepoint) and if any
row is wrong nothing is kept, and each problem is reported as ``row 3: capacity: ...``.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.storage import Center

from . import inventory as inv
from .auth import Principal

CENTER_COLUMNS = ["code", "name", "state", "district", "pincode", "address", "active",
                  "latitude", "longitude"]  # a point only where the PIN code's is too rough
SLOT_COLUMNS = ["center_code", "date", "start_time", "end_time", "age_group", "vaccine",
                "capacity", "booked"]
MAX_ROWS = 20000
MAX_UPLOAD_BYTES = 5 << 20  # a CSV of MAX_ROWS slots is ~1.5 MB


def read_upload(request: Any) -> str:
    """The CSV text of an import request (a ``file`` part, a ``text`` field or the body).

    The app-wide body limit (64 KB, for webhooks) is raised to MAX_UPLOAD_BYTES for this
    request; a larger body is a 413 (werkzeug's RequestEntityTooLarge), never cut short —
    a truncated CSV could import its first rows and drop the rest unnoticed.
    """
    request.max_content_length = MAX_UPLOAD_BYTES
    upload = request.files.get("file")
    if upload is not None:
        return upload.read().decode("utf-8", "replace")
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return request.form.get("text", "")
    return request.get_data(as_text=True)
CENTER_CODE = re.compile(r"[A-Za-z0-9_-]{2,16}")  # as inventory.CenterIn
PROGRESS_ROWS = 500
Progress = Callable[[int, int], None]  # (rows read, characters read)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def export_centers(session: Session, who: Principal) -> str:
    rows = [inv.center_dict(c) for c in inv.search_centers(session, who)]
    return _write(CENTER_COLUMNS, rows)


def export_slots(session: Session, who: Principal, date_from=None, date_to=None) -> str:
    rows = []
    for center in inv.search_centers(session, who):
        for slot in inv.list_slots(session, center, date_from, date_to):
            rows.append({**inv.slot_dict(slot), "center_code": center.code})
    return _write(SLOT_COLUMNS, rows)


def import_centers(session: Session, who: Principal, text: str,
                   progress: Progress | None = None) -> ImportResult:
    """Create or update centers by ``code``."""
    def apply(row: dict[str, str]) -> str:
        given = {k: v for k, v in row.items() if v or k not in ("latitude", "longitude")}
        data = parse_all(inv.CenterIn, {**given, "active": row.get("active") or "true"})
        existing = session.scalar(select(Center).where(Center.code == data.code))
        if existing is not None:
            existing = inv.get_center(session, who, existing.id)
        inv.save_center(session, who, data, existing)
        return "updated" if existing else "created"
    return _import(session, text, CENTER_COLUMNS[:5], apply, key="code", progress=progress)


def import_slots(session: Session, who: Principal, text: str,
                 progress: Progress | None = None) -> ImportResult:
    """Create slots, or set the capacity of existing ones (never below what is booked)."""
    def apply(row: dict[str, str]) -> str:
        code = row.get("center_code") or ""
        center = session.scalar(select(Center).where(Center.code == code)) \
            if CENTER_CODE.fullmatch(code) else None  # e.g. a NUL, which PostgreSQL refuses
        if center is None:
            raise inv.InventoryError("center_code", f"no center {row.get('center_code')!r}")
        center = inv.get_center(session, who, center.id)
        return inv.upsert_slot(session, center, parse_all(inv.SlotIn, row))
    return _import(session, text, SLOT_COLUMNS[:7], apply, key="center_code",
                   progress=progress)


def parse_all(schema, data: dict[str, Any]) -> Any:
    """``data`` as ``schema``, or InventoryError naming every bad field of the row
    (``"pincode: ...; capacity: ..."``), so a row is fixed in one go."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = [(".".join(str(p) for p in e["loc"]) or "body",
                     e["msg"].removeprefix("Value error, ")) for e in exc.errors()]
        first, message = problems[0]
        rest = "".join(f"; {f}: {m}" for f, m in problems[1:])
        raise inv.InventoryError(first, message + rest) from None


def _import(session: Session, text: str, required: list[str], apply, key: str,
            progress: Progress | None = None) -> ImportResult:
    """Apply every row, or none (``key``: the column naming the center, for errors)."""
    result = ImportResult()
    nested = session.begin_nested()
    source = io.StringIO(text.lstrip("\ufeff"), newline="")
    reader = csv.DictReader(source)
    try:
        _apply_rows(reader, required, apply, result, key,
                    (lambda rows: progress(rows, source.tell())) if progress else None)
    except csv.Error as exc:  # stray quotes or line breaks: say where; nothing is applied
        result.errors.append(f"line {reader.line_num}: not valid CSV: {exc}")
    if result.errors:
        nested.rollback()
        result.created = result.updated = 0
    else:
        nested.commit()
    return result


def _apply_rows(reader: csv.DictReader, required: list[str], apply,
                result: ImportResult, key: str, progress=None) -> None:
    """Apply every row, collecting row-level errors into ``result``."""
    if reader.fieldnames:  # as the registrations importer: " Center_Code" is center_code
        reader.fieldnames = [name.lstrip("\ufeff").strip().lower()
                             for name in reader.fieldnames]
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(f"header: missing column(s) {', '.join(missing)}")
        return
    for number, row in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            result.errors.append(f"row {number}: more than {MAX_ROWS} rows")
            break
        try:
            outcome = apply({k: (v or "").strip() for k, v in row.items() if k})
        except inv.InventoryError as exc:
            result.errors.append(f"row {number}: {exc.field}: {exc.message}")
        except inv.NotFound:
            result.errors.append(f"row {number}: {key}: that center is not in your district")
        else:
            setattr(result, outcome, getattr(result, outcome) + 1)
        if progress and number % PROGRESS_ROWS == 0:
            progress(number - 1)


def _write(columns: list[str], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
