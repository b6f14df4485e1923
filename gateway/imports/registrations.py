"""``vaxgate import registrations FILE.csv`` and ``POST /api/v1/imports``.

Rows are read one at a time (the file is never held in memory) and written in batches of
``BATCH`` per transaction (``batch.py``) by the registry's rules: the same person is found
again, the per-phone cap holds, and each registration writes its upstream event.
Importing the same file twice changes nothing: known people are counted as duplicates and
a paper vaccination already recorded is not recorded again.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from gateway.config import Settings
from gateway.imports import csv_source, paper
from gateway.imports.batch import write_batch
from gateway.imports.rows import PaperRow, RowError, missing_columns, parse_row
from gateway.storage import Database
from gateway.storage.models import Beneficiary

BATCH = 500
CHANNEL = "import"
Progress = Callable[[int, int], None]  # (rows read, bytes read)


class ImportRefused(ValueError):
    """The whole file is refused (no header, a required column missing); ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class ImportResult:
    """What an import did; ``rejected`` is every refused row as (line, reason)."""

    encoding: str = ""
    rows: int = 0
    registered: int = 0
    duplicates: int = 0
    vaccinations: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    beneficiary_ids: set[int] = field(default_factory=set)

    def as_dict(self) -> dict:
        return {"encoding": self.encoding, "rows": self.rows, "registered": self.registered,
                "duplicates": self.duplicates, "vaccinations": self.vaccinations,
                "rejected_count": len(self.rejected),
                "rejected": [{"line": line, "reason": why} for line, why in self.rejected]}


def import_registrations(db: Database, settings: Settings, stream: BinaryIO, *,
                         today: dt.date, progress: Progress | None = None) -> ImportResult:
    """Import a seekable binary CSV stream; raise ImportRefused for an unusable file."""
    result = ImportResult(encoding=csv_source.detect_encoding(stream))
    missing = missing_columns(csv_source.header(stream, result.encoding))
    if missing:
        raise ImportRefused("file", f"missing column(s): {', '.join(missing)}")
    batch: list[tuple[int, PaperRow]] = []
    for line, raw in csv_source.rows(stream, result.encoding):
        result.rows += 1
        try:
            batch.append((line, parse_row(raw, today, settings.registration.min_age)))
        except RowError as exc:
            result.rejected.append((line, str(exc)))
        if len(batch) >= BATCH:
            _write(db, settings, batch, today, result)
            batch = []
            if progress:
                progress(result.rows, stream.tell())
    _write(db, settings, batch, today, result)
    if progress:
        progress(result.rows, stream.tell())
    result.rejected.sort()
    return result


def _write(db: Database, settings: Settings, batch: list[tuple[int, PaperRow]],
           today: dt.date, result: ImportResult) -> None:
    """One transaction for a batch of valid rows; paper vaccinations after the people."""
    if not batch:
        return
    cap = settings.registration.max_beneficiaries_per_phone
    with db.write() as session:
        out = write_batch(session, batch, cap, CHANNEL)
        result.rejected += out.rejected
        result.registered += len(out.created)
        result.duplicates += len(out.person) - len(out.created)
        result.beneficiary_ids.update(out.person[line] for line in out.created)
        for line, row in batch:
            if row.vaccinated_on and line in out.person:
                person = session.get(Beneficiary, out.person[line])
                if paper.record_vaccination(session, person, out.centers[row.center_code],
                                            row.vaccinated_on, row.dose, CHANNEL):
                    result.vaccinations += 1
