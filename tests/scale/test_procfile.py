"""The Procfile at the repository root: honcho reads it, and `honcho start` runs web, worker
and cron against one Redis and database until the gateway answers /readyz."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from rq.registry import FinishedJobRegistry

from gateway.config import PROJECT_DIR

from .conftest import free_port

BIN = str(Path(sys.executable).parent)
HONCHO = shutil.which("honcho", path=BIN)
pytestmark = pytest.mark.skipif(HONCHO is None, reason="honcho is not installed (dev extra)")


def test_honcho_reads_the_procfile():
    done = subprocess.run([HONCHO, "check"], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert "Valid procfile detected (web, worker, cron)" in done.stderr


@pytest.mark.timeout(90)
def test_honcho_start_runs_web_worker_and_cron_until_ready(database_url, redis_url,
                                                           redis_client, tmp_path):
    port = free_port()
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PORT": str(port),
           "WEB_CONCURRENCY": "1", "VAXGATE_DATABASE_URL": database_url,
           "VAXGATE_REDIS_URL": redis_url, "VAXGATE_SECRET_KEY": "procfile-test",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    honcho = subprocess.Popen([HONCHO, "start", "--no-colour"], cwd=PROJECT_DIR, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        status = _ready(f"http://127.0.0.1:{port}/readyz", honcho)
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        output = honcho.communicate(timeout=30)[0]
    assert status == 200, output[-3000:]
    for name in ("web.1", "worker.1", "cron.1"):
        assert f"{name} started" in output, output[-3000:]
    # the worker runs --no-cron: the sweep it ran was enqueued by the cron process (a run
    # with nothing to do is logged at DEBUG only, so Redis says it)
    finished = FinishedJobRegistry("otp", connection=redis_client).get_job_ids()
    assert any(job_id.startswith("cron-workers_jobs_sweep-") for job_id in finished), \
        output[-3000:]


def _ready(url: str, process: subprocess.Popen, timeout: float = 45.0) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return requests.get(url, timeout=5).status_code
        except requests.RequestException:  # not listening yet, or still loading the app
            time.sleep(0.3)
    return None
