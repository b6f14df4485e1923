"""``vaxgate run`` in a terminal: a quiet screen whose summary (with the demo credentials)
comes last, an access log without routine requests, and a clean stop on Ctrl-C or SIGTERM:
web, workers, Redis in that order, one line each, nothing left running, exit 0; under
gunicorn and under granian (``--server granian``)."""
from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import time
from pathlib import Path

import psutil
import pytest
import redis
import requests

from gateway.cli.common import WEB_SERVERS
from gateway.config import PROJECT_DIR

from .conftest import SUMMARY_END, VAXGATE, free_port, fresh_clone_env, leftover, on_sqlite_only

pytestmark = [on_sqlite_only, pytest.mark.timeout(120)]
SCREEN_LINES = 40
IDLE_SECONDS = 16  # every scheduled job but the hourly retention runs (the longest: 15 s)
STOPPED = ["stopped web", "stopped worker-1", "stopped redis"]
ALARMING = re.compile(r"ERROR|Error|Traceback|SIGKILL|exited with code|Perhaps out of memory")


def _after(lines: list[str], marker: str) -> list[str]:
    return lines[lines.index(marker) + 1:]


@pytest.mark.parametrize("server", WEB_SERVERS)
def test_an_idle_run_fits_one_screen_with_the_credentials_and_ctrl_c_stops_it_cleanly(
        start_gateway, server):
    gateway = start_gateway("--server", server)
    gateway.wait_for_summary()
    time.sleep(IDLE_SECONDS)
    screen = list(gateway.lines)
    processes = gateway.processes()

    code = gateway.stop(signal.SIGINT)

    assert len(screen) <= SCREEN_LINES, gateway.output
    assert screen[-1] == SUMMARY_END, gateway.output  # nothing printed while idle
    assert re.search(r"sign in at /admin/ as admin / \S{12,}", gateway.output)
    assert "vaxgate admin show-demo" in gateway.output
    assert f"2 {server} workers" in gateway.output
    assert [line for line in gateway.lines if line.startswith("stopped")] == STOPPED
    assert not ALARMING.search(gateway.output), gateway.output
    assert code == 0, gateway.output
    assert len(processes) >= 4 and leftover(processes) == []


def test_sigterm_stops_web_workers_and_redis_in_order_and_exits_0(start_gateway):
    gateway = start_gateway("--sms-workers", "2")
    gateway.wait_for_summary()
    processes = gateway.processes()

    code = gateway.stop(signal.SIGTERM)

    assert _after(gateway.lines, SUMMARY_END) == [
        "", "stopping (Ctrl-C again to stop at once)", "stopped web", "stopped worker-1",
        "stopped worker-2", "stopped redis"], gateway.output
    assert code == 0
    assert leftover(processes) == []


def test_the_death_of_a_worker_stops_the_rest_and_exits_1(start_gateway):
    gateway = start_gateway()
    gateway.wait_for_summary()
    processes = gateway.processes()
    [worker] = [p for p in processes[0].children() if "worker" in p.cmdline()]

    worker.send_signal(signal.SIGKILL)

    assert gateway.wait(60) == 1
    assert _after(gateway.lines, SUMMARY_END) == [
        "Error: worker-1 was killed by SIGKILL; stopping the rest", "stopped web",
        "stopped redis"], gateway.output
    assert leftover(processes) == []


@pytest.mark.parametrize("server", WEB_SERVERS)
def test_a_web_worker_killed_by_the_kernel_is_replaced_and_answers_again(start_gateway,
                                                                          server):
    """The OOM killer takes one web worker: the server starts another (gunicorn's master
    always does; granian with ``--respawn-failed-workers``) and the launcher runs on."""
    gateway = start_gateway("--server", server)
    gateway.wait_for_summary()
    [web] = [p for p in gateway.processes()[0].children() if server in " ".join(p.cmdline())]
    before = {p.pid for p in web.children(recursive=True) if "python" in p.name()}
    victim = psutil.Process(min(before))

    victim.send_signal(signal.SIGKILL)
    victim.wait(10)

    deadline = time.monotonic() + 30
    while True:
        workers = {p.pid for p in web.children(recursive=True) if "python" in p.name()}
        if len(workers) >= len(before) and victim.pid not in workers:
            break
        assert time.monotonic() < deadline, f"{server} did not replace its worker: {workers}"
        time.sleep(0.2)
    for n in range(10):  # every worker answers (each request on its own connection)
        reply = requests.post(f"{gateway.url}/ussd/africastalking", timeout=10, data={
            "sessionId": f"respawn-{n}", "serviceCode": "*384*1234#",
            "phoneNumber": "+919876543210", "text": ""})
        assert reply.status_code == 200 and reply.text.startswith("CON "), reply.text
    assert gateway.process.poll() is None, gateway.output
    assert gateway.stop(signal.SIGTERM) == 0, gateway.output


@pytest.mark.parametrize("server", WEB_SERVERS)
@pytest.mark.parametrize("flags, routine_logged", [((), False), (("--access-log",), True)])
def test_the_access_log_leaves_out_static_files_and_polling_unless_asked(
        start_gateway, flags, routine_logged, server):
    gateway = start_gateway("--server", server, *flags)
    gateway.wait_for_summary()
    for path in ("/simulator/", "/simulator/static/phone.js", "/readyz",
                 "/simulator/inbox?phone=%2B919876543210"):
        assert requests.get(gateway.url + path, timeout=10).status_code == 200
    assert requests.post(f"{gateway.url}/ussd/africastalking", timeout=10, data={
        "sessionId": "log-1", "serviceCode": "*384*1234#", "phoneNumber": "+919876543210",
        "text": ""}).text.startswith("CON ")

    assert gateway.stop(signal.SIGTERM) == 0

    logged = "\n".join(_after(gateway.lines, SUMMARY_END))
    assert '"GET /simulator/ HTTP/1.1" 200' in logged
    assert '"POST /ussd/africastalking HTTP/1.1" 200' in logged
    for routine in ("/simulator/static/phone.js", "/readyz", "/simulator/inbox"):
        assert (f'"GET {routine} HTTP/1.1" 200' in logged) is routine_logged, logged
    assert "+919876543210" not in logged and "phone=" not in logged


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_ctrl_c_in_a_terminal_stops_make_run_with_exit_code_0(tmp_path):
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"run:\n\t{VAXGATE} run\n")  # the Makefile's recipe, without the venv
    env = fresh_clone_env(tmp_path, PORT=str(free_port()))
    pid, terminal = pty.fork()
    if pid == 0:  # the child: a new session whose terminal is the pty, as a shell runs make
        os.chdir(PROJECT_DIR)
        os.execvpe("make", ["make", "--no-print-directory", "-f", str(makefile), "run"], env)
    seen = _read_terminal(terminal, until=SUMMARY_END)
    os.write(terminal, b"\x03")  # Ctrl-C, typed
    seen += _read_terminal(terminal, until=None)

    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert seen.splitlines()[-3:] == STOPPED, seen
    assert "make: ***" not in seen and not ALARMING.search(seen), seen


def _read_terminal(terminal: int, until: str | None, timeout: float = 90) -> str:
    """What the terminal shows, until ``until`` appears or (None) the program ends."""
    seen, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline and (until is None or until.encode() not in seen):
        if select.select([terminal], [], [], 0.5)[0]:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the program ended and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen.decode(errors="replace").replace("\r\n", "\n")


@on_sqlite_only
@pytest.mark.timeout(180)
def test_a_restart_after_kill_9_of_the_launcher_keeps_its_redis_and_starts_no_second(
        start_gateway):
    """kill -9 of `vaxgate run` left its redis-server running, and the next run started a
    second, empty one on the same socket: sessions and brute-force counters were lost."""
    first = start_gateway()
    first.wait_for_summary()
    server = next(p for p in first.processes() if "redis-server" in " ".join(p.cmdline()))
    socket_path = Path(first.env["VAXGATE_VAR_DIR"]) / "redis" / "redis.sock"
    try:
        redis.Redis(unix_socket_path=str(socket_path)).set("vaxgate:test:kept", 1)
        os.kill(first.process.pid, signal.SIGKILL)
        first.wait()
        second = start_gateway()
        second.wait_for_summary()
        servers = [p for p in psutil.process_iter(["cmdline"])
                   if str(socket_path) in " ".join(p.info["cmdline"] or [])]
        assert [p.pid for p in servers] == [server.pid]
        assert redis.Redis(unix_socket_path=str(socket_path)).get("vaxgate:test:kept") == b"1"
        assert second.stop(signal.SIGINT) == 0
        assert leftover([server]) == []
    finally:
        if leftover([server]):
            server.kill()  # never leave it running after a failed test
