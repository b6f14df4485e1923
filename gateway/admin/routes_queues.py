"""The Queues page: how many jobs wait in each queue, how long the oldest has waited, and
the jobs that failed, with a retry button; RQ's own dashboard (/admin/rq) for detail. No
Redis address or file path is shown."""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from gateway.text.times import as_utc
from gateway.web.runtime import get_runtime

from .access import admin_required, audit, bp, login_required
from .stats import QUEUES

QUEUE_WORDS = {"otp": "one-time codes", "notify": "booking SMS", "bulk": "reminders, imports",
               "upstream": "national portal updates"}
FAILED_SHOWN = 20


@bp.get("/queues")
@login_required
def queues():
    """Every queue's depth, oldest waiting job and failed jobs."""
    conn = get_runtime().queue_redis
    try:
        rows = [_queue_row(Queue(name, connection=conn)) for name in QUEUES]
    except RedisError:
        return render_template("admin/error.html", code=503, message=(
            "The job queue does not answer just now; SMS and imports wait until it is back. "
            "Try again in a minute.")), 503
    return render_template("admin/queues.html", rows=rows, words=QUEUE_WORDS)


def _queue_row(queue: Queue) -> dict:
    now = dt.datetime.now(dt.UTC)
    oldest = queue.get_jobs(0, 1)
    enqueued = oldest[0].enqueued_at if oldest else None
    failed_ids = queue.failed_job_registry.get_job_ids(0, FAILED_SHOWN - 1)
    failed = [j for j in Job.fetch_many(failed_ids, connection=queue.connection) if j]
    return {"name": queue.name, "waiting": queue.count,
            "oldest_s": int((now - as_utc(enqueued)).total_seconds()) if enqueued else None,
            "failed_count": queue.failed_job_registry.count,
            "failed": [{"id": j.id, "what": _what(j), "when": j.ended_at,
                        "why": _last_line(j.latest_result().exc_string
                                          if j.latest_result() else "")} for j in failed]}


def _what(job: Job) -> str:
    """A job's function in words (its module path is not for officers)."""
    name = (job.func_name or "").rsplit(".", 1)[-1]
    return name.replace("_", " ")


def _last_line(text: str | None) -> str:
    """The error's last line only: a traceback shows file paths."""
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no reason recorded"


@bp.post("/queues/<name>/retry")
@admin_required
def queue_retry(name: str):
    """Put one failed job (``job_id``) or all of a queue's failed jobs back in the queue."""
    if name not in QUEUES:
        abort(404)
    queue = Queue(name, connection=get_runtime().queue_redis)
    registry = queue.failed_job_registry
    job_id = request.form.get("job_id", "")[:60]
    ids = [job_id] if job_id else registry.get_job_ids()
    retried = 0
    for one in ids:
        try:
            registry.requeue(one)
            retried += 1
        except (NoSuchJobError, ValueError):
            continue
    with get_runtime().db.write() as session:
        audit(session, "queue.retry", f"queue {name}", None, {"jobs": retried})
    flash(f"{retried} failed job{'s' if retried != 1 else ''} put back in the queue.")
    return redirect(url_for("admin.queues"))
