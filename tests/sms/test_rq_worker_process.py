"""A real ``rq worker`` subprocess builds its own context from the environment and fails over."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from gateway.sms import outbox

from .support import attempts, message, provider_config, record


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_rq_worker_subprocess_fails_over_from_hanging_primary(sms_settings, db, redis_url,
                                                              redis_client, fake, tmp_path):
    fake.twilio.mode, fake.twilio.hang_seconds = "hang", 3.0
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"sms": {"providers": provider_config(fake.url),
                                              "dlt": {"required_prefixes": []}}}))
    mid = record(db)
    outbox.enqueue_messages(redis_client, [mid], settings=sms_settings.sms)
    env = {**os.environ, "VAXGATE_CONFIG": str(config),
           "VAXGATE_DATABASE_URL": sms_settings.database_url, "VAXGATE_REDIS_URL": redis_url,
           "VAXGATE_SECRET_KEY": sms_settings.secret_key}
    # RQ's own CLI and job lookup; the project's Worker class only because RQ's can stall
    # 60 s in its pubsub thread at a burst's end (rq/rq#1613; workers/worker.py).
    done = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url",
                           redis_url, "--worker-class", "workers.worker.Worker",
                           "otp", "notify", "bulk"], env=env, timeout=50,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    sent = message(db, mid)
    assert (sent.status, sent.provider) == ("sent", "africastalking")
    assert [(p, o, c) for p, o, c in attempts(db, mid)] == [
        ("twilio", "retryable", "timeout"), ("africastalking", "accepted", "")]
