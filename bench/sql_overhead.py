"""What one database operation of a USSD step costs in each layer: sqlite3, Core, ORM.

On a fresh migrated SQLite database with the demo centers (the gateway's own engine and
pragmas, ``gateway.storage.Database``), times in CPU microseconds per operation:

- a read of one value (a phone's language): sqlite3 alone, a Core connection, an ORM
  read session (``Database.read``) as the menus' actions use;
- a registration's two inserts (the person, the upstream event) in one write transaction:
  sqlite3 alone, prepared Core statements on the write session's connection (what
  ``beneficiaries.register`` does since session 5), and the ORM's unit of work (before).

The SQL itself is the sqlite3 row; everything above it is the library. docs/performance.md
(session 5) has the figures and what they changed.

    .venv/bin/python bench/sql_overhead.py                  # 3,000 reads, 1,500 writes
    .venv/bin/python bench/sql_overhead.py --operations 200
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from ussd_bench import prepare_database  # noqa: E402

PHONE = "+919800000001"


def cpu_us(operation: Callable[[], object], count: int) -> float:
    """Mean CPU microseconds of ``operation`` over ``count`` runs (after one warm-up run)."""
    operation()
    began = time.process_time()
    for _ in range(count):
        operation()
    return (time.process_time() - began) / count * 1e6


def operations(db) -> dict[str, Callable[[], object]]:
    from sqlalchemy import insert, select

    from gateway.registry.outbox import event_row
    from gateway.storage import Beneficiary, PhoneProfile, UpstreamEvent

    numbers = itertools.count()
    people, events = Beneficiary.__table__, UpstreamEvent.__table__
    add_person, add_event = insert(people).returning(people.c.id), insert(events)
    language = select(PhoneProfile.language).where(PhoneProfile.phone == PHONE)
    raw = db.engine.raw_connection().driver_connection

    def person() -> dict:
        n = next(numbers)
        return {"phone": f"+9197{n:08d}", "name": "Sita Devi", "name_key": f"sita devi {n}",
                "birth_year": 1980, "gender": "F", "id_type": "aadhaar", "id_last4": "1234",
                "pincode": "800001", "language": "en", "channel": "ussd",
                "name_recording_url": None, "name_confirmed": True,
                "created_at": dt.datetime.now(dt.UTC)}

    def read_core():
        with db.engine.connect() as connection:
            return connection.execute(language).scalar()

    def read_orm():
        with db.read() as session:
            return session.scalar(language)

    def write_sqlite3():
        row = person()
        raw.execute("BEGIN IMMEDIATE")
        cursor = raw.execute(
            "INSERT INTO beneficiaries (phone, name, name_key, birth_year, gender, id_type,"
            " id_last4, pincode, language, channel, name_confirmed, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
            (row["phone"], row["name"], row["name_key"], 1980, "F", "aadhaar", "1234",
             "800001", "en", "ussd", row["created_at"].isoformat()))
        raw.execute("INSERT INTO upstream_events (idempotency_key, beneficiary_id, kind,"
                    " payload, status, attempts, last_error, next_attempt_at, created_at,"
                    " updated_at) VALUES (?, ?, 'x', '{}', 'sent', 0, '', ?, ?, ?)",
                    (row["name_key"], cursor.lastrowid, *[row["created_at"].isoformat()] * 3))
        raw.execute("COMMIT")

    def write_core():
        with db.write() as session:
            connection, row = session.connection(), person()
            person_id = connection.execute(add_person, row).scalar_one()
            connection.execute(add_event, event_row("beneficiary.registered", person_id, {}))

    def write_orm():
        with db.write() as session:
            row = person()
            row.pop("created_at")
            someone = Beneficiary(**row)
            session.add(someone)
            session.flush()
            session.add(UpstreamEvent(**event_row("beneficiary.registered", someone.id, {})))

    return {"read: sqlite3": lambda: raw.execute(
                "SELECT language FROM phone_profiles WHERE phone = ?", (PHONE,)).fetchone(),
            "read: Core connection": read_core, "read: ORM session": read_orm,
            "register: sqlite3": write_sqlite3, "register: Core on the session": write_core,
            "register: ORM unit of work": write_orm}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=3000,
                        help="reads per row (writes: half as many)")
    parser.add_argument("--rounds", type=int, default=2, help="each row measured this often")
    args = parser.parse_args(argv)

    from gateway.storage import Database

    with tempfile.TemporaryDirectory(prefix="vaxgate-sql-") as tmp:
        url = f"sqlite:///{tmp}/overhead.db"
        prepare_database(url)
        db = Database(url, timeout_s=3)
        rows = operations(db)
        figures = {name: [] for name in rows}
        for _ in range(args.rounds):  # rounds alternate, so a noisy minute hits every row
            for name, operation in rows.items():
                count = args.operations if name.startswith("read") else args.operations // 2
                figures[name].append(cpu_us(operation, max(count, 1)))
        db.dispose()
    print(f"CPU per operation, SQLite (WAL), best of {args.rounds} rounds")
    print(f"{'operation':<32} {'us':>8}")
    for name, values in figures.items():
        print(f"{name:<32} {min(values):8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
