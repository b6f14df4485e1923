"""SMS throughput and failover latency, measured (never asserted).

Two scenarios, each with ``--workers`` real worker processes (``workers.worker.main``) and a
local fake provider answering in ``--latency`` seconds:

1. healthy: every message accepted by the primary;
2. primary failing: the primary answers 503 to every request, so messages fail over to the
   secondary (and the primary's circuit opens).

Prints messages/s, p50/p95 from enqueue to accepted-by-provider, and the lost and
duplicated message counts (both must be 0). Starts its own redis-server unless
``VAXGATE_REDIS_URL`` is set; uses a temporary SQLite database unless ``--database-url``.

    .venv/bin/python bench/sms_bench.py --messages 10000     # the documented run
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from gateway.config import load_settings  # noqa: E402
from gateway.infra.embedded_redis import EmbeddedRedis  # noqa: E402
from gateway.sms import outbox  # noqa: E402
from gateway.storage import Database, upgrade_database  # noqa: E402
from gateway.storage.ledger import Message, SendAttempt  # noqa: E402
from gateway.text.times import as_utc  # noqa: E402
from tests.sms.fake_provider import FakeProvider  # noqa: E402
from tests.sms.support import provider_config  # noqa: E402

CREDENTIALS = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "bench",
               "AT_USERNAME": "bench", "AT_API_KEY": "bench", "AT_WEBHOOK_SECRET": "bench"}


def _settings(database_url: str, redis_url: str, fake_url: str):
    providers = provider_config(fake_url, timeout=2.0)
    return load_settings(overrides={
        "database_url": database_url, "redis_url": redis_url, "secret_key": "bench",
        "sms": {"providers": providers, "breaker_fail_max": 5, "breaker_reset_seconds": 5}})


def _worker(settings) -> None:
    import logging

    from workers.worker import main

    logging.getLogger("vaxgate").setLevel(logging.ERROR)
    main(settings, burst=True, cron=False, logging_level="WARNING")


def _record(db: Database, count: int, tag: str) -> list[int]:
    ids = []
    with db.write() as session:
        for i in range(count):
            ids.append(outbox.record_message(
                session, phone=f"+9198{i:08d}", kind="confirmation", lang="en",
                body=f"vaxgate: Vaccination booked. Ref {tag}{i:06d}.",
                dedupe_key=f"bench:{tag}:{i}").id)
    return ids


def _run(settings, db: Database, conn: redis.Redis, count: int, workers: int, tag: str) -> dict:
    ids = _record(db, count, tag)
    started = time.time()
    outbox.enqueue_messages(conn, ids, settings=settings.sms)
    procs = [mp.Process(target=_worker, args=(settings,)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    elapsed = time.time() - started
    return _figures(db, ids, started, elapsed)


def _figures(db: Database, ids: list[int], started: float, elapsed: float) -> dict:
    with db.read() as session:
        sent = session.execute(select(Message.id, Message.sent_at).where(
            Message.id.in_(ids), Message.status == "sent")).all()
        accepted = session.execute(select(SendAttempt.message_id, func.count()).where(
            SendAttempt.message_id.in_(ids), SendAttempt.outcome == "accepted")
            .group_by(SendAttempt.message_id)).all()
    delays = sorted(_epoch(at) - started for _, at in sent)
    return {"messages": len(ids), "seconds": round(elapsed, 1),
            "per_second": round(len(sent) / elapsed, 1),
            "p50_s": round(statistics.median(delays), 2) if delays else None,
            "p95_s": round(delays[int(len(delays) * 0.95) - 1], 2) if delays else None,
            "lost": len(ids) - len(sent),
            "duplicated": sum(1 for _, n in accepted if n > 1)}


def _epoch(value) -> float:
    return as_utc(value).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    tmp = Path(tempfile.mkdtemp(prefix="sms-bench-"))
    server = None if os.environ.get("VAXGATE_REDIS_URL") else EmbeddedRedis(tmp / "redis").start()
    redis_url = os.environ.get("VAXGATE_REDIS_URL") or server.url
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    upgrade_database(database_url)
    fake = FakeProvider().start()
    fake.twilio.delay = fake.africastalking.delay = args.latency
    settings = _settings(database_url, redis_url, fake.url)
    db, conn = Database(database_url), redis.Redis.from_url(redis_url)
    try:
        print("healthy:", _run(settings, db, conn, args.messages, args.workers, "h"), flush=True)
        fake.twilio.mode = "5xx"
        print("primary failing:", _run(settings, db, conn, args.messages, args.workers, "f"))
    finally:
        fake.stop()
        if server:
            server.stop()


if __name__ == "__main__":
    main()
