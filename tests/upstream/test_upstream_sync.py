"""Upstream sync: outbox events written with each change, delivered in order per person,
exactly once, through an outage; refused events parked; no upstream -> not required."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from gateway.registry import appointments
from gateway.registry.errors import BeneficiaryCapReached
from gateway.storage.models import utcnow
from gateway.upstream import delivery, sweeper

from .support import TODAY, book, events, register, run_jobs, slot_ids

pytestmark = pytest.mark.usefixtures("demo_centers")


def _people_with_history(db) -> list[int]:
    """Three people: one registered, one booked, one booked then rescheduled then cancelled."""
    first_slot, second_slot = slot_ids(db)
    quiet = register(db, "Sita Devi")
    booked = register(db, "Ram Lal", phone="+919812345679")
    book(db, booked, first_slot)
    busy = register(db, "Kamla Bai", phone="+919812345670")
    appointment = book(db, busy, first_slot)
    with db.write() as session:
        moved = appointments.reschedule(session, appointment, second_slot, today=TODAY)
        appointments.cancel(session, moved.id)
    return [quiet, booked, busy]


def _travel(uctx, upstream, minutes: int) -> None:
    """Move every clock minute by minute; each minute the sweeper runs, then the worker."""
    start = utcnow()
    for minute in range(minutes):
        now = start + dt.timedelta(minutes=minute)
        upstream.clock = now
        with time_machine.travel(now, tick=False):
            if sweeper.sweep(uctx, now=now)["enqueued"]:
                run_jobs(uctx.redis)


def test_every_event_arrives_exactly_once_in_order_after_the_upstream_was_down(
        worker_ctx, upstream, db):
    people = _people_with_history(db)
    upstream.down_until = utcnow() + dt.timedelta(minutes=30)

    _travel(worker_ctx, upstream, minutes=45)

    written = events(db)
    assert {e.status for e in written} == {"sent"}
    keys = [body["idempotency_key"] for body in upstream.accepted]
    assert sorted(keys) == sorted(e.idempotency_key for e in written)  # each once
    for person in people:
        arrived = [b["idempotency_key"] for b in upstream.accepted
                   if b["beneficiary_id"] == person]
        assert arrived == [e.idempotency_key for e in written if e.beneficiary_id == person]
    assert {r["status"] for r in upstream.requests} == {503, 201}  # the outage was seen
    assert max(e.attempts for e in written) > 1


def test_person_events_are_written_with_each_change_in_order(db):
    people = _people_with_history(db)

    kinds = {p: [e.kind for e in events(db) if e.beneficiary_id == p] for p in people}

    assert kinds[people[0]] == ["beneficiary.registered"]
    assert kinds[people[1]] == ["beneficiary.registered", "appointment.booked"]
    assert kinds[people[2]] == ["beneficiary.registered", "appointment.booked",
                                "appointment.rescheduled", "appointment.booked",
                                "appointment.cancelled"]


def test_a_refused_registration_writes_no_event(db):
    for n in range(4):
        register(db, f"Person {'abcd'[n]}")
    before = len(events(db))

    with pytest.raises(BeneficiaryCapReached):
        register(db, "Fifth Person")

    assert len(events(db)) == before == 4


def test_a_refused_event_is_parked_with_its_reason_and_blocks_only_its_person(
        worker_ctx, upstream, db):
    booked, other = register(db, "Ram Lal"), register(db, "Sita Devi", phone="+919812345671")
    book(db, booked, slot_ids(db)[0])
    upstream.refuse = {"appointment.booked"}

    _travel(worker_ctx, upstream, minutes=2)

    status = {(e.beneficiary_id, e.kind): (e.status, e.last_error) for e in events(db)}
    assert status[(booked, "beneficiary.registered")] == ("sent", "")
    assert status[(booked, "appointment.booked")] == ("parked", "HTTP 422: unknown center code")
    assert status[(other, "beneficiary.registered")] == ("sent", "")
    backlog = sweeper.backlog(db)
    assert (backlog["parked"], backlog["pending"]) == (1, 0)
    assert backlog["last_error"]["error"] == "HTTP 422: unknown center code"

    upstream.refuse = set()
    parked = next(e for e in events(db) if e.status == "parked")
    assert delivery.resend(db, parked.id)
    _travel(worker_ctx, upstream, minutes=1)
    assert {e.status for e in events(db)} == {"sent"}


def test_events_behind_a_parked_one_wait_for_it(worker_ctx, upstream, db):
    person = register(db, "Ram Lal")
    upstream.refuse = {"beneficiary.registered"}
    _travel(worker_ctx, upstream, minutes=1)
    book(db, person, slot_ids(db)[0])
    upstream.refuse = set()

    _travel(worker_ctx, upstream, minutes=3)

    assert [(e.kind, e.status) for e in events(db)] == [
        ("beneficiary.registered", "parked"), ("appointment.booked", "pending")]


def test_without_an_upstream_events_are_kept_and_marked_not_required(settings, db,
                                                                      redis_client):
    from types import SimpleNamespace

    register(db, "Sita Devi")
    result = sweeper.sweep(SimpleNamespace(settings=settings, db=db, redis=redis_client))

    assert result == {"not_required": 1, "enqueued": 0}
    assert [e.status for e in events(db)] == ["not_required"]


def test_backlog_reports_count_oldest_age_and_last_error(uctx, upstream, db):
    register(db, "Sita Devi")
    upstream.down_until = utcnow() + dt.timedelta(days=1)
    assert delivery.deliver(uctx, events(db)[0].beneficiary_id) == 0  # no raise: SQL retries

    backlog = sweeper.backlog(db, now=utcnow() + dt.timedelta(minutes=10))

    assert backlog["pending"] == 1
    assert backlog["oldest_pending_age_seconds"] >= 600
    assert backlog["last_error"]["error"] == "HTTP 503: maintenance"


@pytest.mark.parametrize("status, kind", [
    (200, "ok"), (201, "ok"), (204, "ok"), (400, "permanent"), (404, "permanent"),
    (409, "permanent"), (422, "permanent"), (429, "retry"), (500, "retry"), (502, "retry"),
    (503, "retry"), (302, "retry"),
])
def test_upstream_answers_are_classified(status, kind):
    assert delivery.classify(status, "why").kind == kind


@pytest.mark.parametrize("attempts, seconds", [
    (1, 10), (2, 20), (3, 40), (4, 80), (5, 160), (6, 300), (50, 300),
])
def test_backoff_doubles_and_is_capped_at_minutes(settings, attempts, seconds):
    assert delivery.backoff_seconds(settings.upstream, attempts) == seconds


@pytest.mark.parametrize("attempts, draw, seconds", [
    (1, 0.0, 5), (1, 1.0, 10), (3, 0.5, 30), (6, 0.0, 150), (6, 1.0, 300), (50, 0.999, 299.85),
])
def test_each_retry_waits_between_half_and_all_of_its_step(settings, attempts, draw, seconds):
    assert delivery.retry_delay(settings.upstream, attempts, lambda: draw) == pytest.approx(
        seconds)


def test_the_worker_cron_runs_the_upstream_sweeper(settings, redis_client):
    from workers.worker import cron_scheduler

    jobs_by_name = {job.func_name: job for job in cron_scheduler(settings,
                                                                  redis_client).get_jobs()}

    sweep = jobs_by_name["gateway.upstream.jobs.sweep"]
    assert (sweep.queue_name, sweep.interval) == ("upstream",
                                                  settings.upstream.sweep_interval_seconds)


@pytest.mark.parametrize("queue, drained", [
    ("upstream", ["otp", "notify", "bulk", "upstream"]), ("bulk", ["otp", "notify", "bulk"]),
])
def test_the_worker_drains_the_upstream_queue_after_the_sms_queues(settings, queue, drained):
    from workers.worker import worker_queues

    data = settings.model_dump()
    data["upstream"]["queue"] = queue

    assert worker_queues(type(settings).model_validate(data)) == drained


def test_a_person_in_backoff_is_not_due_again_because_a_booking_waits_behind(
        worker_ctx, upstream, db):
    person = register(db, "Ram Lal")
    book(db, person, slot_ids(db)[0])  # two events: registered, then booked
    upstream.down_until = utcnow() + dt.timedelta(hours=1)
    assert sweeper.sweep(worker_ctx)["enqueued"] == 1
    run_jobs(worker_ctx.redis)  # the first try meets the outage: the next is due in 10 s
    first = events(db)[0]
    assert (first.attempts, events(db)[1].attempts) == (1, 0)
    soon = utcnow() + dt.timedelta(seconds=5)
    assert sweeper.sweep(worker_ctx, now=soon)["enqueued"] == 0
    later = first.next_attempt_at.replace(tzinfo=dt.UTC) + dt.timedelta(seconds=1)
    assert sweeper.sweep(worker_ctx, now=later)["enqueued"] == 1
