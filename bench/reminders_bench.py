"""Reminder planning and day-list export speed, measured (never asserted).

1. ``--appointments`` (default 100,000) appointments whose 24 h reminder falls due in the
   same hour: one sweeper pass creates every reminder in the ledger and enqueues it on the
   ``bulk`` queue (real redis-server); a second pass shows the cost of finding nothing new.
2. The day list of one center with ``--center-size`` (default 5,000) appointments, exported
   as CSV through ``daylists.day_rows`` + ``csv_lines`` (what the streamed response runs).

Uses a temporary SQLite database unless ``--database-url``; starts its own redis-server
unless ``VAXGATE_REDIS_URL`` is set.

    .venv/bin/python bench/reminders_bench.py                  # the documented run
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from gateway.config import load_settings  # noqa: E402
from gateway.infra.embedded_redis import EmbeddedRedis  # noqa: E402
from gateway.reminders import daylists, sweeper  # noqa: E402
from gateway.sms import outbox  # noqa: E402
from gateway.storage import (  # noqa: E402
    Appointment,
    Beneficiary,
    Center,
    Database,
    Slot,
    upgrade_database,
)

IST = ZoneInfo("Asia/Kolkata")
DAY = dt.date(2030, 1, 15)
STARTS = [dt.time(10, m) for m in (0, 15, 30, 45)]  # all in one hour
CHUNK = 10_000


def _seed(db: Database, count: int, centers: int, prefix: str, starts: list[dt.time]) -> int:
    """``count`` booked appointments spread over ``centers`` centers on DAY; first center id."""
    with db.write() as session:
        center_ids = [session.execute(insert(Center).values(
            code=f"{prefix}{n}", name=f"PHC {prefix} {n}", state="Bihar", district="Patna",
            pincode="800020", address="", active=True)).inserted_primary_key[0]
            for n in range(centers)]
        per_slot = -(-count // (centers * len(starts)))
        slot_ids = [session.execute(insert(Slot).values(
            center_id=c, date=DAY, start_time=s, end_time=dt.time(s.hour + 1, s.minute),
            age_group="18-44", vaccine="COVISHIELD", capacity=per_slot, booked=per_slot))
            .inserted_primary_key[0] for c in center_ids for s in starts]
    booked_at = dt.datetime(2030, 1, 10, tzinfo=dt.UTC)
    for first in range(0, count, CHUNK):
        n_range = range(first, min(first + CHUNK, count))
        with db.write() as session:
            session.execute(insert(Beneficiary), [
                {"phone": f"+9190{n:08d}", "name": f"Person {n}", "name_key": f"{prefix}{n}",
                 "birth_year": 1990, "gender": "F", "id_type": "aadhaar", "id_last4": "1234",
                 "pincode": "800020", "language": ("en", "hi", "bn")[n % 3], "channel": "ussd",
                 "created_at": booked_at} for n in n_range])
            ids = session.scalars(select(Beneficiary.id).where(
                Beneficiary.name_key.in_([f"{prefix}{n}" for n in n_range]))).all()
            session.execute(insert(Appointment), [
                {"reference": f"{prefix}{n:07d}"[-10:], "beneficiary_id": bid,
                 "slot_id": slot_ids[n % len(slot_ids)], "status": "booked", "dose": 1,
                 "channel": "ussd", "created_at": booked_at, "updated_at": booked_at}
                for n, bid in zip(n_range, ids, strict=True)])
    return center_ids[0]


def bench_planning(db, settings, redis_conn, count: int) -> None:
    started = time.perf_counter()
    _seed(db, count, centers=50, prefix="P", starts=STARTS)
    print(f"seeded {count:,} appointments in {time.perf_counter() - started:.1f} s")
    hour_before = dt.datetime.combine(DAY - dt.timedelta(days=1), dt.time(10), IST)
    sweeper.sweep_reminders(db, settings, now=hour_before - dt.timedelta(minutes=1))
    enqueued: list[int] = []
    now = hour_before + dt.timedelta(hours=1)
    started = time.perf_counter()
    result = sweeper.sweep_reminders(db, settings, now=now, enqueue=enqueued.extend)
    planned = time.perf_counter() - started
    started = time.perf_counter()
    for first in range(0, len(enqueued), CHUNK):
        outbox.enqueue_messages(redis_conn, enqueued[first:first + CHUNK], queue="bulk",
                                settings=settings.sms)
    pushed = time.perf_counter() - started
    started = time.perf_counter()
    again = sweeper.sweep_reminders(db, settings, now=now + dt.timedelta(seconds=15))
    second = time.perf_counter() - started
    queued = redis_conn.llen("rq:queue:bulk")
    print(f"plan: {result['created']:,} reminders written to the ledger in {planned:.1f} s "
          f"({result['created'] / planned:,.0f}/s)")
    print(f"enqueue: {queued:,} RQ jobs on the bulk queue in {pushed:.1f} s "
          f"({queued / pushed:,.0f}/s)")
    print(f"plan again 15 s later: {again['created']} created in {second:.2f} s")


def bench_day_list(db, settings, size: int) -> None:
    center_id = _seed(db, size, centers=1, prefix="D", starts=[dt.time(9), dt.time(14)])
    now = dt.datetime.combine(DAY - dt.timedelta(days=2), dt.time(12), IST)
    started = time.perf_counter()
    with db.read() as session:
        rows = daylists.day_rows(session, center_id, DAY, settings, now)
        text = "".join(daylists.csv_lines(rows, settings))
    elapsed = time.perf_counter() - started
    lines = text.count("\n") - 1
    print(f"day list CSV: {lines:,} rows, {len(text) / 1e6:.1f} MB in {elapsed:.2f} s "
          f"({lines / elapsed:,.0f} rows/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--center-size", type=int, default=5_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        upgrade_database(url)
        server = None
        redis_url = os.environ.get("VAXGATE_REDIS_URL")
        if not redis_url:
            server = EmbeddedRedis(Path(tmp) / "redis").start()
            redis_url = server.url
        settings = load_settings(overrides={"database_url": url, "redis_url": redis_url,
                                            "secret_key": "bench"})
        db = Database(url)
        try:
            bench_planning(db, settings, redis.Redis.from_url(redis_url), args.appointments)
            bench_day_list(db, settings, args.center_size)
        finally:
            db.dispose()
            if server:
                server.stop()


if __name__ == "__main__":
    main()
