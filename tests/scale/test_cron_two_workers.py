"""Two `vaxgate worker` processes with cron, started together on the same Redis and database:
every scheduled job runs once per its own interval slot (never twice, whichever node takes
the slot), and the sweeper they both schedule sends each message once."""
from __future__ import annotations

import datetime as dt
import signal
import threading
import time
from collections import Counter

import pytest
import redis
from rq.cron import CronScheduler
from rq.job import Job
from sqlalchemy import func, select, update

from gateway.sms import outbox
from gateway.storage.ledger import Message, SendAttempt
from gateway.storage.models import utcnow
from workers import cron
from workers.worker import cron_scheduler

from .conftest import scale_settings, start_worker, worker_env

RELEASE_SLOTS = 5      # the 1 s job must run in at least this many slots
DEADLINE_SECONDS = 75  # for all of it, from the workers' start (they start slowly on a busy CI)
MESSAGES = 6
CRON_JOB = "rq:job:cron-"


def _record_unqueued(db, count: int) -> list[int]:
    """Ledger rows no RQ job knows about (as after a lost enqueue): only the sweeper sends them."""
    with db.write() as session:
        ids = [outbox.record_message(session, phone=f"+9198123456{n:02d}", kind="confirmation",
                                     budget=None, body=f"Booked {n}", lang="en",
                                     dedupe_key=f"cron-{n}").id
               for n in range(count)]
        session.execute(update(Message).values(updated_at=utcnow() - dt.timedelta(minutes=1)))
    return ids


def _runs(conn: redis.Redis) -> dict[str, dict[int, int]]:
    """{job name: {slot: times it ran}} from the jobs the cron enqueued (RQ keeps one result
    per execution)."""
    runs: dict[str, dict[int, int]] = {}
    for key in conn.scan_iter(f"{CRON_JOB}*"):
        job = Job.fetch(key.decode().removeprefix("rq:job:"), connection=conn)
        name, slot = job.id.removeprefix("cron-").rsplit("-", 1)
        runs.setdefault(name, {})[int(slot)] = len(job.results())
    return runs


def _done(queues: redis.Redis, names: set[str], fake) -> bool:
    """Every job ran, the 1 s job in RELEASE_SLOTS slots, and every message was sent."""
    runs = _runs(queues)
    return (set(runs) == names and all(sum(slots.values()) >= 1 for slots in runs.values())
            and sum(1 for n in runs["workers_jobs_release_turns"].values() if n) >= RELEASE_SLOTS
            and len(fake.twilio.received) >= MESSAGES)


def _stop(workers) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=30)


@pytest.mark.usefixtures("provider_env")
@pytest.mark.timeout(150)
def test_two_workers_with_cron_run_each_job_once_per_slot_and_send_each_message_once(
        settings, db, two_servers, two_redis, fake, tmp_path):
    session_url, queue_url = two_servers
    queues = two_redis[1]
    schedule = scale_settings(
        settings, fake.url, redis_url="", sms={"sweep_interval_seconds": 4},
        admission={"max_active_sessions": 5, "release_interval_seconds": 1},
        upstream={"sweep_interval_seconds": 2})
    ids = _record_unqueued(db, MESSAGES)
    env = worker_env(schedule, tmp_path, VAXGATE_SESSION_REDIS_URL=session_url,
                     VAXGATE_QUEUE_REDIS_URL=queue_url)

    names = {job.name.replace(".", "_") for job in cron_scheduler(schedule, queues).get_jobs()}

    workers = [start_worker(env, tmp_path / f"worker-{n}.log") for n in (1, 2)]
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline and not _done(queues, names, fake):
            time.sleep(0.5)
        time.sleep(2)  # a late duplicate, if the lock let one through, would show by now
        alive = [worker.poll() is None for worker in workers]
    finally:
        _stop(workers)

    logs = [(tmp_path / f"worker-{n}.log").read_text()[-2000:] for n in (1, 2)]
    assert alive == [True, True], logs
    runs = _runs(queues)
    assert set(runs) == names, logs
    assert all(times <= 1 for slots in runs.values() for times in slots.values()), runs
    assert all(sum(slots.values()) >= 1 for slots in runs.values()), runs
    # the 1 s job is not held to the 4 s sweep interval (as one lock for all once did)
    release = runs["workers_jobs_release_turns"]  # slot = epoch second for a 1 s job
    assert len(release) > (max(release) - min(release)) / 4 + 1, runs
    queued = Counter(queues.lrange(b"rq:queue:otp", 0, -1) + queues.lrange(b"rq:queue:notify",
                                                                          0, -1))
    assert not [job_id for job_id, n in queued.items() if n > 1]

    sent = Counter(r["form"]["To"] for r in fake.twilio.received)
    assert sorted(sent) == sorted(f"+9198123456{n:02d}" for n in range(MESSAGES))
    assert set(sent.values()) == {1}
    with db.read() as session:
        accepted = session.execute(select(SendAttempt.message_id, func.count())
                                   .where(SendAttempt.outcome == "accepted")
                                   .group_by(SendAttempt.message_id)).all()
    assert sorted(accepted) == [(mid, 1) for mid in ids]


def test_a_slot_taken_by_one_node_is_not_enqueued_by_another(settings, redis_client):
    scheduler = CronScheduler(connection=redis_client)
    scheduler.register(print, "bulk", interval=3600)

    first = cron.enqueue_due(scheduler, redis_client, "node-a")
    again = cron.enqueue_due(scheduler, redis_client, "node-b")

    assert len(first) == 1 and first[0].startswith("cron-builtins_print-")
    assert again == []
    assert redis_client.llen("rq:queue:bulk") == 1


def test_a_scheduled_job_without_an_interval_is_refused(redis_client):
    scheduler = CronScheduler(connection=redis_client)
    scheduler.register(print, "bulk", cron="*/5 * * * *")
    with pytest.raises(ValueError, match="builtins.print"):
        cron.run(scheduler, redis_client, threading.Event())
