"""SMS throughput against its ceiling, OTP latency behind a bulk backlog, failover: measured,
never asserted.

In one run, against one local fake provider (its own process; it answers the Twilio and the
Africa's Talking send APIs after ``--latency`` seconds):

1. ceiling: the same fake hit by a plain loop of ``--ceiling-threads`` threads (32: 2 workers
   x 16 ``sms.send_threads``) sharing one ``requests.Session`` (no vaxgate): messages/s;
2. healthy: ``--messages`` reminders recorded and enqueued on ``bulk`` at once, drained by
   ``--workers`` real worker processes (``workers.worker.main``); meanwhile OTPs are asked
   for (``OtpService.request``) at ``--otp-rate`` per second. Prints messages/s, the ratio to
   the ceiling, CPU ms per message of the worker processes (psutil), and p50/p95 from an
   OTP's request to its acceptance by the provider;
3. primary failing (unless ``--no-failover``): the same with Twilio answering 503.

Every message counted is checked at the fake: its text reached its number exactly once
(*lost*: not sent, or sent but never received; *duplicated*: received more than once).
Starts its own redis-server unless ``VAXGATE_REDIS_URL`` is set; a temporary SQLite database
unless ``--database-url``. Settings the code does not have are left out, so the same script
measures an older checkout too (docs/performance.md).

    .venv/bin/python bench/sms_bench.py --messages 10000     # the documented run
    .venv/bin/python bench/sms_bench.py --quick              # a few hundred, for the smoke test
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
import redis  # noqa: E402
import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from gateway.config import SmsSettings, load_settings  # noqa: E402
from gateway.infra.embedded_redis import EmbeddedRedis  # noqa: E402
from gateway.sms import outbox  # noqa: E402
from gateway.storage import Database, upgrade_database  # noqa: E402
from gateway.storage.ledger import Message, SendAttempt  # noqa: E402
from gateway.text.times import as_utc  # noqa: E402
from tests.sms.support import TWILIO_SID, TWILIO_TOKEN, provider_config  # noqa: E402

CREDENTIALS = {"TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
               "AT_USERNAME": "bench", "AT_API_KEY": "bench", "AT_WEBHOOK_SECRET": "bench"}
SETTLE_TIMEOUT_S = 1800
UNSENT = ("queued", "sending")


# ---- the fake provider, in a process of its own ----------------------------------------

def _serve_fake(conn, latency: float) -> None:
    from tests.sms.fake_provider import FakeProvider

    fake = FakeProvider().start()
    fake.twilio.delay = fake.africastalking.delay = latency
    conn.send(fake.url)
    while True:
        command, *args = conn.recv()
        if command == "mode":
            fake.twilio.mode = args[0]
        elif command == "received":
            conn.send([(r["form"].get("To") or r["form"].get("to"),
                        r["form"].get("Body") or r["form"].get("message"))
                       for b in (fake.twilio, fake.africastalking) for r in b.received
                       if r["mode"] == "ok"])
        elif command == "reset":
            fake.twilio.received.clear()
            fake.africastalking.received.clear()
        elif command == "stop":
            fake.stop()
            return


class FakeProcess:
    """The fake provider in a child process: the bench's own threads do not slow it."""

    def __init__(self, latency: float):
        self.conn, child = mp.Pipe()
        self.process = mp.Process(target=_serve_fake, args=(child, latency), daemon=True)
        self.process.start()
        self.url = self.conn.recv()

    def ask(self, *command):
        self.conn.send(command)
        return self.conn.recv() if command[0] == "received" else None

    def stop(self) -> None:
        self.conn.send(("stop",))
        self.process.join(timeout=10)


# ---- 1. the ceiling ----------------------------------------------------------------------

def ceiling(fake_url: str, messages: int, threads: int) -> float:
    """Messages/s of ``threads`` threads posting Twilio's send form on one Session."""
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_maxsize=threads))
    url = f"{fake_url}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    auth = (TWILIO_SID, TWILIO_TOKEN)

    def post(i: int) -> None:
        session.post(url, data={"To": f"+9197{i:08d}", "From": "+15005550006",
                                "Body": f"ceiling {i}"}, auth=auth, timeout=10).raise_for_status()

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, range(messages)))
    return messages / (time.monotonic() - started)


# ---- 2. and 3. vaxgate -------------------------------------------------------------------

def bench_settings(database_url: str, redis_url: str, fake_url: str):
    """The deployment under test; keys this checkout does not know are left out."""
    providers = provider_config(fake_url)
    for provider in providers:
        provider["timeout_seconds"] = 10.0  # the queues' own timeouts apply below this cap
    sms = {"providers": providers, "breaker_fail_max": 5, "breaker_reset_seconds": 3,
           "public_base_url": "http://127.0.0.1", "dlt": {"required_prefixes": []}}
    sms = {k: v for k, v in sms.items() if k in SmsSettings.model_fields}
    return load_settings(overrides={
        "database_url": database_url, "redis_url": redis_url, "secret_key": "bench",
        "demo_data": False, "sms": sms, "otp": {"resend_cooldown_seconds": 0,
                                                 "max_per_phone_per_hour": 100}})


def _worker(settings) -> None:
    import logging

    from workers.worker import main

    logging.getLogger("vaxgate").setLevel(logging.ERROR)
    main(settings, burst=False, cron=False, logging_level="WARNING")


def record_reminders(db: Database, count: int, tag: str) -> dict[int, tuple[str, str]]:
    """``count`` reminders in the ledger: id -> (phone, text)."""
    sent: dict[int, tuple[str, str]] = {}
    with db.write() as session:
        for i in range(count):
            phone, body = f"+9198{i:08d}", f"vaxgate: reminder {tag}{i:06d}, tomorrow 10:00."
            sent[outbox.record_message(session, phone=phone, kind="reminder", lang="en",
                                       budget=None, body=body,
                                       dedupe_key=f"bench:{tag}:{i}").id] = (phone, body)
    return sent


class OtpCaller(threading.Thread):
    """Asks for OTPs at ``rate`` per second, each for a new phone, until stopped."""

    def __init__(self, settings, db: Database, conn: redis.Redis, rate: float, tag: str):
        super().__init__(daemon=True)
        from gateway.sms.otp import OtpService

        self.service = OtpService(settings, db, conn)
        self.rate, self.tag = rate, tag
        self.stop = threading.Event()
        self.ids: dict[int, str] = {}  # message id -> phone

    def run(self) -> None:
        n = 0
        while not self.stop.wait(1 / self.rate if self.rate else 3600):
            phone = f"+9196{self.tag}{n:07d}"
            self.ids[self.service.request(phone).message_id] = phone
            n += 1


def run(settings, fake: FakeProcess, db: Database, conn: redis.Redis, args,
        tag: str) -> dict:
    """One scenario: reminders drained by real workers while OTPs are asked for."""
    fake.ask("reset")
    reminders = record_reminders(db, args.messages, tag)
    procs = [mp.Process(target=_worker, args=(settings,)) for _ in range(args.workers)]
    for proc in procs:
        proc.start()
    time.sleep(args.warmup)  # imports and connections: not part of the figures
    cpu_before = _cpu(procs)
    started = time.monotonic()
    outbox.enqueue_messages(conn, list(reminders), queue="bulk", settings=settings.sms)
    otps = OtpCaller(settings, db, conn, args.otp_rate, tag)
    otps.start()
    _wait_until_sent(db, list(reminders))
    otps.stop.set()
    otps.join()
    _wait_until_sent(db, list(otps.ids))
    elapsed = time.monotonic() - started
    cpu = _cpu(procs) - cpu_before
    for proc in procs:
        os.kill(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.join(timeout=60)
    return figures(db, fake, reminders, otps.ids, elapsed, cpu)


def _cpu(procs) -> float:
    """CPU seconds of the worker processes and their children (RQ's scheduler) so far."""
    total = 0.0
    for proc in procs:
        try:
            tree = psutil.Process(proc.pid)
            for p in [tree, *tree.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _wait_until_sent(db: Database, ids: list[int]) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        with db.read() as session:
            left = session.scalar(select(func.count()).select_from(Message).where(
                Message.id.in_(ids), Message.status.in_(UNSENT))) if ids else 0
        if not left:
            return
        time.sleep(0.2)


def figures(db: Database, fake: FakeProcess, reminders: dict[int, tuple[str, str]],
            otps: dict[int, str], elapsed: float, cpu_s: float) -> dict:
    """Rates, OTP latency, and every message checked against what the fake received."""
    with db.read() as session:
        rows = session.execute(select(Message.id, Message.status, Message.body,
                                      Message.created_at, Message.sent_at).where(
            Message.id.in_([*reminders, *otps]))).all()
        accepted = Counter(session.scalars(select(SendAttempt.message_id).where(
            SendAttempt.message_id.in_([*reminders, *otps]),
            SendAttempt.outcome == "accepted")))
    received = Counter(fake.ask("received"))
    lost, duplicated = _check(rows, reminders, otps, received, accepted)
    sent = sum(1 for r in rows if r.status == "sent" and r.id in reminders)
    delays = sorted((as_utc(r.sent_at) - as_utc(r.created_at)).total_seconds()
                    for r in rows if r.id in otps and r.sent_at)
    return {"messages": len(reminders), "seconds": round(elapsed, 1),
            "per_second": round(sent / elapsed, 1),
            "cpu_ms_per_message": round(cpu_s * 1000 / max(1, len(rows)), 2),
            "otps": len(otps), "otp_p50_s": _pct(delays, 0.5), "otp_p95_s": _pct(delays, 0.95),
            "lost": lost, "duplicated": duplicated}


def _check(rows, reminders, otps, received: Counter, accepted: Counter) -> tuple[int, int]:
    """(lost, duplicated): each text must have reached its number exactly once."""
    lost = duplicated = 0
    for row in rows:
        if row.id in reminders:
            times = received[reminders[row.id]]
        else:  # the ledger keeps the code masked: match any 6 digits in its place
            pattern = re.compile(re.escape(row.body).replace(re.escape("******"), r"\d{6}"))
            times = sum(n for (phone, body), n in received.items()
                        if phone == otps[row.id] and pattern.fullmatch(body or ""))
        lost += row.status != "sent" or times == 0
        duplicated += times > 1 or accepted[row.id] > 1
    return lost, duplicated


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(statistics.quantiles(values, n=100)[int(q * 100) - 1], 2) \
        if len(values) > 1 else round(values[0], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--quick", action="store_true", help="300 messages, 1 s warm-up")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--otp-rate", type=float, default=5.0, help="OTPs asked for per second")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--no-failover", action="store_true", help="skip the failing primary")
    parser.add_argument("--ceiling-threads", type=int, default=32,
                        help="the plain loop's threads (2 workers x 16 send threads)")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.warmup = min(args.messages, 300), 1.0
    os.environ.update(CREDENTIALS)
    tmp = Path(tempfile.mkdtemp(prefix="sms-bench-"))
    server = None if os.environ.get("VAXGATE_REDIS_URL") else EmbeddedRedis(tmp / "redis").start()
    redis_url = os.environ.get("VAXGATE_REDIS_URL") or server.url
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    upgrade_database(database_url)
    fake = FakeProcess(args.latency)
    settings = bench_settings(database_url, redis_url, fake.url)
    db, conn = Database(database_url), redis.Redis.from_url(redis_url)
    threads = args.ceiling_threads
    try:
        top = ceiling(fake.url, args.messages, threads)
        print(f"ceiling: {threads} threads on one requests.Session: {top:.1f} msg/s", flush=True)
        healthy = run(settings, fake, db, conn, args, "1")
        print("healthy:", healthy, f"ratio to ceiling {healthy['per_second'] / top:.2f}",
              flush=True)
        if not args.no_failover:
            fake.ask("mode", "5xx")
            failing = run(settings, fake, db, conn, args, "2")
            print("primary failing:", failing,
                  f"ratio to ceiling {failing['per_second'] / top:.2f}", flush=True)
    finally:
        fake.stop()
        if server:
            server.stop()


if __name__ == "__main__":
    main()
