"""A whole gateway in real processes, for fault injection: redis-server, a migrated SQLite
database with the demo centers, gunicorn (2 workers) on ``wsgi:app``, RQ workers started
with the project's entry point (``python -m gateway.cli worker``), a fake SMS provider and a
fake upstream registry. Everything listens on loopback only, on ports the kernel picks, and
everything is stopped (process group by process group, SIGTERM then SIGKILL) by ``close``.
"""
from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil
import requests
import yaml
from sqlalchemy import create_engine, make_url

from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.storage import Database
from tests.sms.fake_provider import FakeProvider
from tests.sms.support import API_KEY, AT_KEY, AT_SECRET, TWILIO_SID, TWILIO_TOKEN, provider_config
from tests.upstream.fake_upstream import SECRET as UPSTREAM_SECRET
from tests.upstream.fake_upstream import FakeUpstream

from .tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+)")
START_TIMEOUT_S = 60


def base_config(fake_url: str, upstream_url: str) -> dict[str, Any]:
    """Settings for a fault run: fast sweeps so recovery happens within seconds."""
    return {
        "ussd": {"service_codes": ["*384*1234#"], "allowed_networks": ["127.0.0.0/8"]},
        "admission": {"rate_limit_per_phone": "10000/minute"},
        "sms": {"providers": provider_config(fake_url, timeout=2.0),
                "sweep_interval_seconds": 1, "stale_after_seconds": 10,
                "retry_intervals_seconds": [1, 2, 4],
                "breaker_fail_max": 3, "breaker_reset_seconds": 2,
                # no delivery reports here: keep the "no report, re-send" rule out of the way
                "delivery_report_timeout_seconds": 3600,
                "public_base_url": "http://127.0.0.1",  # Twilio needs one to start
                "dlt": {"required_prefixes": []}},  # DLT rules: tests/sms/test_dlt.py
        "otp": {"resend_cooldown_seconds": 0},
        "upstream": {"url": upstream_url, "timeout_seconds": 2, "sweep_interval_seconds": 1,
                     "backoff_base_seconds": 1, "backoff_cap_seconds": 4,
                     "breaker_reset_seconds": 2},
        "demo_data": False,
    }


def merged(base: dict, extra: dict) -> dict:
    """``base`` with ``extra`` merged in, section by section."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = {**out.get(key, {}), **value} if isinstance(value, dict) else value
    return out


_TEMPLATE: list[Path] = []
_TEMPLATE_LOCK = threading.Lock()


def template_database() -> Path:
    """The migrated SQLite file with 7 days of demo slots, built on first use."""
    from gateway.registry.demo_data import load_demo_data
    from gateway.storage import upgrade_database

    with _TEMPLATE_LOCK:
        if not _TEMPLATE:
            folder = Path(tempfile.mkdtemp(prefix="vaxgate-faults-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            url = f"sqlite:///{folder / 'template.db'}"
            upgrade_database(url)
            db = Database(url)
            with db.write() as session:
                load_demo_data(session, dt.datetime.now(ZoneInfo("Asia/Kolkata")).date(), days=7)
            db.dispose()  # the last connection checkpoints the WAL into the file
            _TEMPLATE.append(folder / "template.db")
        return _TEMPLATE[0]


class Process:
    """A child in its own process group, logging to a file; ``stop`` ends the whole group."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path):
        self.name, self.log = name, log
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out,
                                          start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        """SIGKILL the process itself (not its group): what the OOM killer does."""
        os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # children the leader left behind, too
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def errors(self, chars: int = 4000) -> str:
        """The log from its first unhandled error on: why a request was answered 500."""
        text = self.log.read_text(errors="replace")
        at = text.find("unhandled error")
        return "" if at < 0 else text[at:at + chars]


class Stack:
    """One gateway: ``url`` is the web base URL, ``db`` its database, ``fake`` the SMS
    provider, ``upstream`` the registry; ``redis`` can be killed and started again empty."""

    def __init__(self, root: Path, config: dict | None = None, sms_workers: int = 1,
                 postgres_url: str = ""):
        """``postgres_url``: run on a new database on that PostgreSQL server instead of
        SQLite, reached by the gateway's processes through ``self.proxy`` (a TcpProxy that
        can cut the network); ``self.db`` (the test's own view) connects directly."""
        self.root = root
        self.postgres_url = postgres_url
        self.proxy: TcpProxy | None = None
        root.mkdir(parents=True, exist_ok=True)
        self.fake = FakeProvider().start()
        self.upstream = FakeUpstream().start()
        self.upstream.clock = dt.datetime.now(dt.UTC)
        self.settings_data = merged(base_config(self.fake.url, self.upstream.url), config or {})
        self.redis = EmbeddedRedis(root / "redis")
        self.database_url = f"sqlite:///{root / 'gateway.db'}"
        self.db: Database | None = None
        self.web: Process | None = None
        self.workers: list[Process] = []
        self.closing = threading.Event()
        self.supervisor: threading.Thread | None = None
        self.sms_workers = sms_workers
        self.url = ""

    # ---- start -------------------------------------------------------------------------

    def start(self) -> Stack:
        self.redis.start()
        self._prepare_database()
        self.config_path = self.root / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(self.settings_data))
        (self.root / "prometheus").mkdir(exist_ok=True)
        self.env = {**os.environ, "VAXGATE_CONFIG": str(self.config_path),
                    "VAXGATE_DATABASE_URL": self.database_url,
                    "VAXGATE_REDIS_URL": self.redis.url, "VAXGATE_SECRET_KEY": "faults-secret",
                    "PROMETHEUS_MULTIPROC_DIR": str(self.root / "prometheus"),
                    "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                    "AT_USERNAME": "vaxgate", "AT_API_KEY": AT_KEY,
                    "AT_WEBHOOK_SECRET": AT_SECRET, "VAXGATE_API_KEYS": API_KEY,
                    "VAXGATE_UPSTREAM_SECRET": UPSTREAM_SECRET}
        self._start_web()
        for _ in range(self.sms_workers):
            self.start_worker()
        return self

    def _prepare_database(self) -> None:
        """A copy of a migrated database with the demo centers, made once per session
        (Alembic's module-level state is not for two threads migrating at once)."""
        if self.postgres_url:
            self._prepare_postgres()
            return
        shutil.copyfile(template_database(), self.root / "gateway.db")
        self.db = Database(self.database_url)

    def _prepare_postgres(self) -> None:
        """A fresh database on the server (migrated, demo centers), and the proxy before it."""
        from gateway.registry.demo_data import load_demo_data
        from gateway.storage import upgrade_database

        server = make_url(self.postgres_url)
        name = f"vaxgate_faults_{os.getpid()}_{self.root.name}".lower()
        with _autocommit(server.set(database="postgres")) as admin:
            admin.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.dropped_database = (server.set(database="postgres"), name)
        direct = server.set(database=name).render_as_string(hide_password=False)
        upgrade_database(direct)
        self.db = Database(direct)
        with self.db.write() as session:
            load_demo_data(session, dt.datetime.now(ZoneInfo("Asia/Kolkata")).date(), days=7)
        self.proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432)
        self.database_url = server.set(database=name, host="127.0.0.1", port=self.proxy.port
                                       ).render_as_string(hide_password=False)

    def _start_web(self) -> None:
        log = self.root / "gunicorn.log"
        self.web = Process("gunicorn", [
            sys.executable, "-m", "gunicorn", "wsgi:app", "--workers", "2",
            "--bind", "127.0.0.1:0", "--graceful-timeout", "3", "--timeout", "30",
            "--access-logfile", "-", "--access-logformat", "%(p)s %(s)s %(m)s %(U)s"],
            self.env, log)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.web.alive():
            found = LISTENING.search(log.read_bytes())
            if found:
                self.url = f"http://127.0.0.1:{found[1].decode()}"
                break
            time.sleep(0.1)
        self.wait_ready()

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Until /readyz answers 200 (database and Redis reachable)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.web.alive():
            with contextlib.suppress(requests.RequestException):
                if self.url and requests.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn never became ready:\n{self.web.tail()}")

    def start_worker(self) -> Process:
        """One more ``vaxgate worker`` (the project's RQ worker entry point), once it listens
        on its queues (it refuses to start while Redis is down: a supervisor restarts it)."""
        self.started_workers = number = getattr(self, "started_workers", 0) + 1
        worker = Process(f"worker-{number}", [sys.executable, "-m", "gateway.cli", "worker"],
                         self.env, self.root / f"worker-{number}.log")
        self.workers.append(worker)
        deadline = time.monotonic() + START_TIMEOUT_S
        while b"Listening on" not in worker.log.read_bytes():
            if not worker.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{worker.name} did not start:\n{worker.tail()}")
            time.sleep(0.1)
        return worker

    def restart_dead_workers(self) -> int:
        """Start a new worker for each that exited; returns how many."""
        dead = [w for w in self.workers if not w.alive()]
        for worker in dead:
            self.workers.remove(worker)
            self.start_worker()
        return len(dead)

    def supervise(self, every_s: float = 0.5) -> list[int]:
        """What a supervisor (systemd ``Restart=always``) does, from now until ``close``:
        restart any worker that exits. RQ quits when Redis vanishes under a running job —
        possibly seconds later, so one look right after a fault can miss it. Returns
        ``[restarts so far]``."""
        restarts = [0]

        def watch() -> None:
            while not self.closing.wait(every_s):
                try:
                    restarts[0] += self.restart_dead_workers()
                except RuntimeError:  # it did not start (yet): try again on the next look
                    pass

        self.supervisor = threading.Thread(target=watch, daemon=True, name="faults-supervisor")
        self.supervisor.start()
        return restarts

    # ---- faults ------------------------------------------------------------------------

    def web_workers(self) -> list[int]:
        """The pids of gunicorn's current worker processes."""
        return [p.pid for p in psutil.Process(self.web.pid).children()]

    def has_served(self, pid: int) -> bool:
        """True once web worker ``pid`` has answered a request (its access log line)."""
        return f"<{pid}> ".encode() in self.web.log.read_bytes()

    def kill_redis(self) -> None:
        """SIGKILL the redis-server: every key is gone (nothing is persisted)."""
        self.redis.process.kill()
        self.redis.process.wait(timeout=10)

    def restart_redis(self) -> None:
        """A new, empty redis-server on the same unix socket."""
        self.redis.start()

    # ---- stop --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every process and server this stack started (safe to call twice)."""
        self.closing.set()  # before the workers stop: no supervisor restarts them
        if self.supervisor is not None:
            self.supervisor.join(timeout=START_TIMEOUT_S + 5)  # one mid-restart finishes
        for process in [*self.workers, *([self.web] if self.web else [])]:
            process.stop()
        self.workers, self.web = [], None
        self.redis.stop()
        for server in (self.fake, self.upstream):
            with contextlib.suppress(OSError):
                server.stop()
        if self.db is not None:
            self.db.dispose()
        if self.proxy is not None:
            self.proxy.close()
            self.proxy = None
        if getattr(self, "dropped_database", None):
            admin_url, name = self.dropped_database
            with _autocommit(admin_url) as admin:
                admin.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.dropped_database = None


@contextlib.contextmanager
def _autocommit(url):
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()
