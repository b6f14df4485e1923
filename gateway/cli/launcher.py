"""``vaxgate run``: everything one machine needs, in the foreground, stopped by Ctrl-C.

Steps: start an embedded redis-server when no ``redis_url`` is set, apply migrations, load
demo data into an empty database, check the menus, then start the web server (gunicorn, or
granian with ``--server granian``) and RQ worker(s) as child processes, wait until the web
answers /readyz and every worker has registered, and only then print the summary, so that
it stays on screen: the terminal then shows requests (not static files or the simulator's
polling), SMS sent, scheduled jobs that did something, warnings and errors. If a child
dies, everything stops and the exit code is 1.

Ctrl-C or SIGTERM stops the web, the workers and Redis, in that order, one line each, and
exits 0; a second Ctrl-C kills what is left at once. How the signal reaches the launcher
alone: gateway/cli/processes.py.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import click
import redis
import requests
from sqlalchemy.exc import SQLAlchemyError

from gateway.cli import processes
from gateway.cli.common import DEFAULT_PORT, DEMO_CREDENTIALS, VAR_DIR, WEB_SERVERS
from gateway.config import PROJECT_DIR, Settings
from gateway.infra.embedded_redis import EmbeddedRedis
from gateway.infra.redis_clients import connect_redis, redis_problems
from gateway.web.access_log import granian_log_config

# gunicorn's access log without query strings or referers (secrets, phone numbers)
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
# Threads per web worker (gunicorn's gthread worker): a USSD step spends much of its time
# waiting on Redis and SQL, and another request of the same worker runs meanwhile.
WEB_THREADS = 4
START_TIMEOUT_S = 60  # from spawning the children to a ready web and registered workers
STOP_TIMEOUT_S = 10   # per part, after SIGTERM, before SIGKILL


# granian's access log line in gunicorn's shape (the path without its query, as above)
GRANIAN_ACCESS_FORMAT = ('%(addr)s [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d '
                         '%(dt_ms).0fms')


def web_server_flags(threads: int = WEB_THREADS) -> list[str]:
    """gunicorn flags of the web server (``vaxgate run`` and the benches). Each gthread worker
    accepts only as many connections as it has threads, so callers wait in the kernel's one
    accept queue and the first worker with a free thread takes the next: by default a worker
    accepts up to 1,000 and queues them behind its own threads while the other may be idle.
    With no spare connection there is no keep-alive (gunicorn would warn), so it is off:
    each request on its own connection, as the aggregators' callbacks come."""
    return ["--threads", str(threads), "--worker-connections", str(threads),
            "--keep-alive", "0"]


def granian_flags(threads: int = WEB_THREADS) -> list[str]:
    """granian flags of the web server (``vaxgate run --server granian`` and the benches): the
    WSGI app on ``threads`` threads per worker, and no more requests taken in at once
    (``--backpressure``), for the reason given for gunicorn above; one I/O thread per worker
    (HTTP parsing is in Rust, and a second thread only takes CPU from the app's threads);
    no keep-alive, since backpressure counts connections and an idle browser's would hold
    a place (as for gunicorn above); a worker that dies is started again (granian gives up
    and exits if it dies again within 5.5 s). It reads and writes
    sockets outside Python: a step costs about a third less CPU than under gunicorn
    (docs/performance.md, "Issue 18, session 9")."""
    return ["--interface", "wsgi", "--blocking-threads", str(threads),
            "--backpressure", str(threads), "--runtime-threads", "1", "--no-ws", "--http", "1",
            "--no-http1-keep-alive", "--respawn-failed-workers"]


class ChildExited(click.ClickException):
    """A web or worker process ended while it should be running."""


class Launcher:
    def __init__(self, settings: Settings, *, host: str, port: int, web_workers: int,
                 sms_workers: int, config_path: str | None = None, access_log: bool = False,
                 server: str = WEB_SERVERS[0]):
        self.settings = settings
        self.host, self.port = host, port
        self.web_workers, self.sms_workers = web_workers, sms_workers
        self.config_path = config_path
        self.access_log = access_log
        self.server = server
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.redis: EmbeddedRedis | None = None
        self.admin_line = ""  # the demo admin's credentials, once prepared
        self.stopping = False  # Ctrl-C or SIGTERM arrived
        self.hurry = False     # ...twice: kill what is left

    def run(self) -> None:
        """Prepare, start the processes, print the summary, and wait until Ctrl-C, SIGTERM
        or a child's death; then stop everything."""
        self._catch_stop_signals()
        with processes.terminal_foreground():
            try:
                self._start_all()
                if not self.stopping:
                    click.echo(self.summary())
                    self._watch()
            except ChildExited as exc:
                click.echo(f"Error: {exc.message}; stopping the rest", err=True)
                raise click.exceptions.Exit(1) from None
            finally:
                self._stop_all()

    def _catch_stop_signals(self) -> None:
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, self._on_stop_signal)
        # Ctrl-Z would suspend the launcher alone and leave the gateway running unwatched
        signal.signal(signal.SIGTSTP, signal.SIG_IGN)

    def _on_stop_signal(self, *_) -> None:
        self.hurry = self.stopping
        self.stopping = True

    def _start_all(self) -> None:
        redis_url = self._redis_url()
        self._prepare()
        if self.stopping:
            return
        env = self._child_env(redis_url)
        self._spawn("web", self._web_command(), env)
        for number in range(self.sms_workers):
            self._spawn(f"worker-{number + 1}",
                        [sys.executable, "-m", "gateway.cli", "worker", "--quiet"], env)
        self._wait_started(redis_url)

    def _web_command(self) -> list[str]:
        if self.server == "granian":
            return [sys.executable, "-m", "granian", *self._granian_flags(), "wsgi:app"]
        return [sys.executable, "-m", "gunicorn", "wsgi:app", *self._gunicorn_flags()]

    def _granian_flags(self) -> list[str]:
        log_config = VAR_DIR / f"granian-logging-{self.port}.json"  # one per running port
        log_config.parent.mkdir(parents=True, exist_ok=True)
        log_config.write_text(json.dumps(granian_log_config(quiet=not self.access_log)))
        return [*granian_flags(), "--workers", str(self.web_workers), "--host", self.host,
                "--port", str(self.port), "--log-level", "warning",
                "--workers-kill-timeout", "5", "--access-log",
                "--access-log-fmt", GRANIAN_ACCESS_FORMAT, "--log-config", str(log_config)]

    def _gunicorn_flags(self) -> list[str]:
        flags = ["--workers", str(self.web_workers), *web_server_flags(),
                 "--bind", f"{self.host}:{self.port}", "--log-level", "warning",
                 "--access-logfile", "-",
                 # the path without its query: AT callbacks carry ?secret=
                 "--access-logformat", ACCESS_LOG_FORMAT,
                 # X-Forwarded-* count only through web.trust_proxy (ProxyFix)
                 "--forwarded-allow-ips", "",
                 "--graceful-timeout", "5"]
        if not self.access_log:
            flags += ["--logger-class", "gateway.web.access_log.QuietAccessLog"]
        return flags

    def _redis_url(self) -> str:
        """``redis_url`` for the children: the configured one, or one embedded server when
        some role (session, queue) has no URL of its own. Fails naming a Redis that does
        not answer (wrong password, unreachable)."""
        settings = self.settings
        if not settings.redis_url and not (settings.session_redis_url
                                           and settings.queue_redis_url):
            self.redis = EmbeddedRedis(VAR_DIR / "redis").start(own_session=True, adopt=True)
            click.echo(f"redis:    embedded {self.redis.binary} at {self.redis.socket}")
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
        from gateway.cli.geo import load_if_newer

        click.echo(load_if_newer(self.settings))  # a newer bundled PIN-code directory
        if self.settings.demo_data:
            click.echo(load_demo_if_empty(self.settings))
        load_menus()  # fail here, with the menu's error path, rather than in every worker
        from gateway.admin.bootstrap import demo_credentials, ensure_demo_admin

        credentials = VAR_DIR / DEMO_CREDENTIALS
        self.admin_line = ensure_demo_admin(self.settings, credentials)
        if demo_credentials(credentials):
            self.admin_line += f"\n{'':12}(again at any time: .venv/bin/vaxgate admin show-demo)"

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
        self.children.append((name, processes.spawn(args, env, PROJECT_DIR)))

    def _wait_started(self, redis_url: str) -> None:
        """Until the web answers /readyz and every worker has registered in Redis (or a
        stop signal, or START_TIMEOUT_S: then the summary comes anyway, after a warning)."""
        queue = connect_redis(self.settings.queue_redis_url or redis_url)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.stopping and not (self._web_ready() and self._workers_ready(queue)):
            self._check_children()
            if time.monotonic() > deadline:
                click.echo(f"warning: not ready after {START_TIMEOUT_S} s; see above", err=True)
                return
            time.sleep(0.3)

    def _web_ready(self) -> bool:
        if not self.port:
            return True  # a port the kernel picks: nothing to ask
        try:
            return requests.get(f"{self._local_url()}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def _workers_ready(self, queue) -> bool:
        from rq import Worker

        pids = {child.pid for name, child in self.children if name.startswith("worker-")}
        try:
            return pids <= {worker.pid for worker in Worker.all(connection=queue)}
        except redis.RedisError:
            return False

    def _local_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    def summary(self) -> str:
        """What runs where, how to sign in and how to try it (printed once all is ready)."""
        base = self._local_url()
        code = self.settings.ussd.service_codes[0]
        url_flag = "" if self.port == DEFAULT_PORT else f" --url {base}"
        return f"""
vaxgate is running
  web:      {base}  ({self.web_workers} {self.server} workers; health: /readyz)
  workers:  {self.sms_workers} RQ worker(s) on queues otp, notify, bulk
  USSD:     POST {base}/ussd/africastalking  ({code})
  phone:    {base}/simulator/  (USSD, IVR and SMS on screen)
  console:  {base}/admin/
  {self.admin_line}

Try it in another terminal:
  .venv/bin/vaxgate dial{url_flag}    # walk the menus, as a phone would
  curl -s {base}/ussd/africastalking -d sessionId=demo1 \\
       -d serviceCode='{code}' -d phoneNumber=+919876543210 -d text=
Stop with Ctrl-C."""

    def _watch(self) -> None:
        while not self.stopping:
            self._check_children()
            time.sleep(0.5)

    def _check_children(self) -> None:
        for name, child in self.children:
            code = child.poll()
            if code is not None and not self.stopping:
                raise ChildExited(f"{name} was killed by {signal.Signals(-code).name}"
                                  if code < 0 else f"{name} exited with code {code}")

    def _stop_all(self) -> None:
        """Web first (no new work), then the workers, then Redis; one line each."""
        if self.stopping:
            click.echo("\nstopping (Ctrl-C again to stop at once)")
        for name, child in self.children:
            running = child.poll() is None
            stopped = processes.stop(child, STOP_TIMEOUT_S, lambda: self.hurry)
            if running:
                click.echo(f"stopped {name}" if stopped else f"killed {name}")
        if self.redis:
            self.redis.stop()
            click.echo("stopped redis")
