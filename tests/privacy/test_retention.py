"""Retention: old SMS texts, sandbox inbox rows, IVR recording references, audit rows and
stray session keys are removed after their ``retention.*_days``; a dry run only counts; the
CLI prints what it did per kind; the worker's cron runs it on the ``bulk`` queue."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from gateway.admin.models import AuditEntry
from gateway.cli.commands import main as cli
from gateway.healthworkers import accounts, audit
from gateway.healthworkers.models import HealthWorkerAction
from gateway.registry import beneficiaries
from gateway.sms import outbox
from gateway.storage import Beneficiary, Message, SandboxMessage
from gateway.storage.models import utcnow
from gateway.storage.retention import REMOVED, apply_retention
from workers import jobs
from workers.cron import enqueue_due
from workers.worker import Worker, build_context, cron_scheduler

from .support import with_changes

NOW = utcnow()
OLD, RECENT = NOW - dt.timedelta(days=100), NOW - dt.timedelta(days=5)
EXPECTED = {"message_bodies": 1, "sandbox_inbox": 1, "recordings": 1, "audit_entries": 1,
            "health_worker_audit": 1, "sessions": 2}


@pytest.fixture
def rules(settings):
    return settings.retention.model_copy(update={
        "message_body_days": 30, "recording_days": 30, "audit_days": 30, "session_days": 1})


@pytest.fixture
def aged(db, redis_client, worker):
    """One old and one recent row of every kind, and session keys with and without expiry."""
    with db.write() as session:
        for n, status in enumerate(["delivered", "delivered", "queued"]):
            message = outbox.record_message(session, phone="+919812388800", kind="reminder",
                                            budget=None, lang="en",
                                            body=f"Sita Devi, K7QP3{n}, 24 Nov",
                                            dedupe_key=f"ret-{n}")
            message.created_at, message.status = [OLD, RECENT, OLD][n], status
            at = [OLD, RECENT, RECENT][n]  # for every other kind
            session.add(SandboxMessage(phone="+919812388800", body=f"OTP 12345{n}",
                                       provider_message_id=f"sb-{n}", at=at))
            person, _ = beneficiaries.register(session, beneficiaries.NewBeneficiary(
                phone=f"+91981238881{n}", name=f"Voice Kbm{n}", birth_year=1950, gender="F",
                id_type="none", id_last4="", pincode="800020"), today=NOW.date(),
                min_age=18, cap=4)
            person.name_recording_url, person.created_at = f"https://rec.test/{n}", at
            session.add(AuditEntry(actor="root", action="export", target=f"t{n}", at=at))
            audit.record(session, accounts.get(session, worker), channel="ussd",
                         action="sign_in")
        session.flush()
        for n, row in enumerate(session.scalars(select(HealthWorkerAction))):
            row.at = [OLD, RECENT, RECENT][n]
    redis_client.set("vaxgate:ussd:{+919812388800}:session:stray", "{}")  # no expiry: removed
    redis_client.set("vaxgate:ivr:{+919812388800}:resume", "{}", ex=400 * 86400)  # too long
    redis_client.set("vaxgate:ussd:{+919812388800}:session:live", "{}", ex=180)  # kept
    return db


def _bodies(db) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(Message.body).order_by(Message.id)))


def _count(db, model) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_dry_run_counts_and_changes_nothing(aged, redis_client, rules):
    before = _bodies(aged)
    assert apply_retention(aged, redis_client, rules, now=NOW, dry_run=True) == EXPECTED
    assert _bodies(aged) == before and REMOVED not in before
    assert redis_client.exists("vaxgate:ussd:{+919812388800}:session:stray")


def test_old_data_of_every_kind_is_removed_once(aged, redis_client, rules):
    assert apply_retention(aged, redis_client, rules, now=NOW) == EXPECTED
    old, recent, in_flight = _bodies(aged)
    assert (old, recent) == (REMOVED, "Sita Devi, K7QP31, 24 Nov")
    assert in_flight == "Sita Devi, K7QP32, 24 Nov"  # not sent yet: kept
    with aged.read() as session:
        assert list(session.scalars(select(Beneficiary.name_recording_url)
                                    .order_by(Beneficiary.id))) == [
            None, "https://rec.test/1", "https://rec.test/2"]
    assert [_count(aged, m) for m in (SandboxMessage, AuditEntry, HealthWorkerAction)] \
        == [2, 2, 2]
    assert not redis_client.exists("vaxgate:ussd:{+919812388800}:session:stray",
                                   "vaxgate:ivr:{+919812388800}:resume")
    assert redis_client.exists("vaxgate:ussd:{+919812388800}:session:live")
    assert set(apply_retention(aged, redis_client, rules, now=NOW).values()) == {0}


def test_zero_days_keeps_that_kind(aged, redis_client, rules):
    keep = rules.model_copy(update={"message_body_days": 0, "audit_days": 0})
    counts = apply_retention(aged, redis_client, keep, now=NOW)
    assert counts["message_bodies"] == counts["audit_entries"] == counts["sandbox_inbox"] == 0
    assert REMOVED not in _bodies(aged)


def test_the_cli_prints_what_it_did_per_kind(aged, tmp_path, database_url, redis_url):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "database_url": database_url, "redis_url": redis_url,
        "retention": {"message_body_days": 30, "recording_days": 30, "audit_days": 30}}))
    dry = CliRunner().invoke(cli, ["--config", str(config), "retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "message_bodies: would remove 1" in dry.output
    assert "sessions: would remove 2" in dry.output
    assert REMOVED not in _bodies(aged)
    done = CliRunner().invoke(cli, ["--config", str(config), "retention", "run"])
    assert done.exit_code == 0, done.output
    assert [line for line in done.output.splitlines() if line.endswith(" 1")] == [
        "message_bodies: removed 1", "sandbox_inbox: removed 1", "recordings: removed 1",
        "audit_entries: removed 1", "health_worker_audit: removed 1"]
    assert _bodies(aged)[0] == REMOVED


def test_the_worker_cron_runs_retention_on_the_bulk_queue(aged, settings, redis_client):
    changed = with_changes(settings, {"retention": {"message_body_days": 30,
                                                    "interval_minutes": 120}})
    scheduler = cron_scheduler(changed, redis_client)
    job = next(j for j in scheduler.get_jobs() if j.func_name.endswith("apply_retention"))
    assert (job.queue_name, job.interval) == ("bulk", 7200)
    build_context(changed, redis_client)
    try:
        assert any("apply_retention" in job_id for job_id in enqueue_due(scheduler,
                                                                         redis_client))
        Worker(["bulk"], connection=redis_client).work(burst=True)
    finally:
        jobs.install(None)
    assert _bodies(aged)[0] == REMOVED
