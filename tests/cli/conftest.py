"""``vaxgate run`` started as the README says (``PORT=… .venv/bin/vaxgate run``), on a fresh
SQLite file and an embedded Redis under a temp folder, read line by line and stopped as a
terminal stops it: a signal to its process group."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from gateway.config import PROJECT_DIR

VAXGATE = Path(sys.executable).with_name("vaxgate")
SUMMARY_END = "Stop with Ctrl-C."
# The launcher runs on SQLite, as a fresh clone does; the PostgreSQL pass has nothing to add.
on_sqlite_only = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                                    reason="vaxgate run is tested as a fresh clone runs it")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_clone_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh clone: no VAXGATE_* settings but a private var/ folder and
    database (both documented), so the test leaves the repository's var/ alone."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VAXGATE_")}
    env.pop("PORT", None)
    env.update(VAXGATE_VAR_DIR=str(tmp_path / "var"),
               VAXGATE_DATABASE_URL=f"sqlite:///{tmp_path / 'vaxgate.db'}",
               PYTHONUNBUFFERED="1", **extra)
    return env


class RunningGateway:
    """One ``vaxgate run`` process and everything it printed so far."""

    def __init__(self, tmp_path: Path, *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = fresh_clone_env(tmp_path, PORT=str(self.port))
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [str(VAXGATE), "run", *args], cwd=PROJECT_DIR, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_summary(self, timeout: float = 90) -> None:
        """Until the startup summary has been printed (everything has started)."""
        deadline = time.monotonic() + timeout
        while SUMMARY_END not in self.lines:
            assert self.process.poll() is None, self.output
            assert time.monotonic() < deadline, f"no summary yet:\n{self.output}"
            time.sleep(0.2)

    def processes(self) -> list[psutil.Process]:
        """The launcher and every process under it (web, workers, Redis)."""
        launcher = psutil.Process(self.process.pid)
        return [launcher, *launcher.children(recursive=True)]

    def stop(self, signum: int, timeout: float = 60) -> int:
        """Send ``signum`` to the launcher's process group, as Ctrl-C does; its exit code."""
        os.killpg(self.process.pid, signum)
        return self.wait(timeout)

    def wait(self, timeout: float = 60) -> int:
        """Its exit code, once it has ended and all it printed has been read."""
        code = self.process.wait(timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        """After a failed test: nothing of it may outlive the test."""
        if self.process.poll() is None:
            for process in self.processes():
                process.kill()
            self.process.wait(10)


@pytest.fixture
def start_gateway(tmp_path) -> Iterator:
    """Start ``vaxgate run`` with extra arguments; every one started is killed at the end."""
    started: list[RunningGateway] = []

    def start(*args: str) -> RunningGateway:
        started.append(RunningGateway(tmp_path, *args))
        return started[-1]

    yield start
    for gateway in started:
        gateway.kill()


def leftover(processes: list[psutil.Process]) -> list[str]:
    """Those of ``processes`` still running (a zombie has ended: only its exit code is left)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(process.cmdline()[:3]))
        except psutil.NoSuchProcess:
            pass
    return alive
