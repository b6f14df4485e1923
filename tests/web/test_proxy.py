"""nginx running deploy/nginx/vaxgate.conf in front of the web server: slow clients cost it
nothing, the body limits are the app's, and the proxy headers are the ones ``web.trust_proxy``
believes.

Every test runs twice: behind nginx is one real gunicorn serving ``wsgi:app`` with the
project's flags (``web_server_flags``, 1 worker × 4 threads), then one real granian (``vaxgate
run --server granian``'s flags, ``granian_flags``), each on the test Redis and SQLite; one
real nginx runs the shipped file with only its listen ports, certificate and upstream
address substituted (a self-signed certificate made with openssl). Skipped only where nginx
or openssl is not installed (`make test` installs Debian's packages).
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from gateway.admin.csvio import MAX_UPLOAD_BYTES
from gateway.cli.common import WEB_SERVERS
from gateway.cli.launcher import (
    ACCESS_LOG_FORMAT,
    GRANIAN_ACCESS_FORMAT,
    granian_flags,
    web_server_flags,
)
from gateway.config import HealthWorkerSettings
from gateway.web.webhook_security import MAX_REQUEST_BYTES
from tests.faults.stack import LISTENING, ROOT, Process

SHIPPED = ROOT / "deploy" / "nginx" / "vaxgate.conf"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
OPENSSL = shutil.which("openssl")
CLIENT_TIMEOUT_S = 5  # the bound on a normal step: an aggregator gives up after a few seconds
SLOW_CLIENTS = 50
START_TIMEOUT_S = 30
STEP = {"serviceCode": "*384*1234#", "networkCode": "40410", "text": ""}
SLOW_HEAD = (b"POST /ussd/africastalking HTTP/1.1\r\nHost: localhost\r\n"
             b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")

pytestmark = [
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed: `make test` installs "
                       "Debian's (apt-get install nginx); needed to run deploy/nginx/vaxgate.conf"),
    pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed (apt-get install "
                       "openssl): needed for the test's self-signed certificate"),
]


def derived_config(shipped: str, *, http_port: int, https_port: int, upstream: str,
                   cert: Path, key: Path) -> str:
    """The shipped configuration with its deployment-specific values replaced; each must be
    found exactly once, so the test cannot drift away from the file it claims to run."""
    table = [(r"listen 80;", f"listen 127.0.0.1:{http_port};"),
             (r"listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
             (r"ssl_certificate \S+;", f"ssl_certificate {cert};"),
             (r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};"),
             (r"server 127\.0\.0\.1:8000;", f"server {upstream};")]
    for pattern, replacement in table:
        shipped, found = re.subn(pattern, replacement, shipped)
        assert found == 1, f"{SHIPPED}: expected `{pattern}` once, found it {found} times"
    return shipped


def main_config(folder: Path, site: Path) -> str:
    """What /etc/nginx/nginx.conf gives the site file, with every path inside ``folder``."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers write bodies under a 0700 folder
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
            f"error_log {folder / 'error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n"
            f"    include {site};\n}}\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ProxiedGateway:
    """The web server (gunicorn or granian) at ``direct_url``, nginx in front of it at ``url``
    (TLS, ``cert`` trusts it)."""

    server: str
    web: Process
    nginx: Process
    direct_url: str
    url: str
    https_port: int
    web_port: int
    cert: Path

    def step(self, base: str, phone: str) -> requests.Response:
        """One USSD dial of ``phone``, bounded by the client timeout."""
        data = {**STEP, "sessionId": f"proxy-{uuid.uuid4().hex[:8]}", "phoneNumber": phone}
        return requests.post(f"{base}/ussd/africastalking", data=data, verify=str(self.cert),
                             timeout=CLIENT_TIMEOUT_S)


@pytest.fixture(scope="module", params=WEB_SERVERS)
def proxied(request, tmp_path_factory, redis_url, database_url) -> Iterator[ProxiedGateway]:
    folder = tmp_path_factory.mktemp(f"proxy-{request.param}")
    started: list[Process] = []
    try:
        start = _start_granian if request.param == "granian" else _start_gunicorn
        web, port = start(folder, redis_url, database_url)
        started.append(web)
        nginx, https_port, cert = _start_nginx(folder, f"127.0.0.1:{port}")
        started.append(nginx)
        yield ProxiedGateway(request.param, web, nginx, f"http://127.0.0.1:{port}",
                             f"https://127.0.0.1:{https_port}", https_port, port, cert)
    finally:
        for process in reversed(started):
            process.stop()


def _web_env(folder: Path, redis_url: str, database_url: str) -> dict[str, str]:
    """The web server's environment: behind one proxy, on the test Redis and database."""
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump({
        "web": {"trust_proxy": 1}, "demo_data": False,
        "admission": {"rate_limit_per_phone": "10000/minute"}}))
    (folder / "prometheus").mkdir()
    env = {key: value for key, value in os.environ.items() if "REDIS_URL" not in key}
    env.update(VAXGATE_CONFIG=str(config), VAXGATE_DATABASE_URL=database_url,
               VAXGATE_REDIS_URL=redis_url, VAXGATE_SECRET_KEY="proxy-test-secret",
               PROMETHEUS_MULTIPROC_DIR=str(folder / "prometheus"))
    return env


def _start_gunicorn(folder: Path, redis_url: str, database_url: str) -> tuple[Process, int]:
    """gunicorn as `vaxgate run` starts it, 1 worker × 4 threads; the process and its port."""
    process = Process("gunicorn", [
        sys.executable, "-m", "gunicorn", "wsgi:app", "--workers", "1", *web_server_flags(4),
        "--bind", "127.0.0.1:0", "--forwarded-allow-ips", "", "--graceful-timeout", "3",
        "--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT],
        _web_env(folder, redis_url, database_url), folder / "gunicorn.log")
    _wait_until(lambda: LISTENING.search(process.log.read_bytes()), process)
    port = int(LISTENING.search(process.log.read_bytes())[1])
    _wait_until(lambda: _answers(f"http://127.0.0.1:{port}/readyz"), process)
    return process, port


def _start_granian(folder: Path, redis_url: str, database_url: str) -> tuple[Process, int]:
    """granian as `vaxgate run --server granian` starts it, 1 worker × 4 threads."""
    port = free_port()
    process = Process("granian", [
        sys.executable, "-m", "granian", *granian_flags(4), "--workers", "1",
        "--host", "127.0.0.1", "--port", str(port), "--workers-kill-timeout", "3",
        "--access-log", "--access-log-fmt", GRANIAN_ACCESS_FORMAT, "wsgi:app"],
        _web_env(folder, redis_url, database_url), folder / "granian.log")
    _wait_until(lambda: _answers(f"http://127.0.0.1:{port}/readyz"), process)
    return process, port


def _start_nginx(folder: Path, upstream: str) -> tuple[Process, int, Path]:
    """nginx on the shipped site file, in the foreground; its process, TLS port, cert."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    https_port = free_port()
    site = folder / "vaxgate.conf"
    site.write_text(derived_config(SHIPPED.read_text(), http_port=free_port(),
                                   https_port=https_port, upstream=upstream, cert=cert, key=key))
    conf = folder / "nginx.conf"
    conf.write_text(main_config(folder, site))
    process = Process("nginx", [NGINX, "-p", str(folder), "-c", str(conf), "-e",
                                str(folder / "error.log"), "-g", "daemon off;"], {},
                      folder / "nginx.log")
    url = f"https://127.0.0.1:{https_port}/healthz"
    _wait_until(lambda: _answers(url, verify=str(cert)), process,
                extra=folder / "error.log")
    return process, https_port, cert


def _answers(url: str, verify: bool | str = True) -> bool:
    with contextlib.suppress(requests.RequestException):
        return requests.get(url, timeout=2, verify=verify).status_code == 200
    return False


def _wait_until(ready, process: Process, extra: Path | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.alive():
        if ready():
            return
        time.sleep(0.1)
    more = extra.read_text(errors="replace") if extra and extra.exists() else ""
    raise RuntimeError(f"{process.name} did not start:\n{process.tail()}\n{more}")


class SlowClients:
    """``count`` POSTs of a USSD step that send their headers at once and then their body
    one byte a second (1,000 bytes announced), from one background thread."""

    def __init__(self, port: int, count: int, cafile: Path | None = None, drip: bool = True):
        self.context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
        self.sockets: list[socket.socket] = []
        self.rounds = 0
        self.stopped = threading.Event()
        for number in range(count):
            self.sockets.append(self._open(port, number))
        self.thread = threading.Thread(target=self._drip, daemon=True, name="slow-clients")
        if drip:
            self.thread.start()

    def _open(self, port: int, number: int) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT_S)
        if self.context is not None:
            sock = self.context.wrap_socket(sock, server_hostname="127.0.0.1")
        sock.sendall(SLOW_HEAD + f"sessionId=slow-{number}&".encode())
        return sock

    def _drip(self) -> None:
        while not self.stopped.wait(1.0):
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.sendall(b"a")
            self.rounds += 1

    def wait_rounds(self, rounds: int) -> None:
        """Until every connection has sent ``rounds`` more bytes of its body (bounded)."""
        deadline = time.monotonic() + 10 * rounds
        while self.rounds < rounds and time.monotonic() < deadline:
            time.sleep(0.05)

    def unanswered(self) -> int:
        """After the dripping stopped: how many are still open with no answer yet."""
        self.stop_dripping()
        return sum(_open_without_answer(sock) for sock in self.sockets)

    def stop_dripping(self) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)

    def close(self) -> None:
        self.stop_dripping()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


def _open_without_answer(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        sock.recv(1)  # b"": closed; anything else: answered
    except (BlockingIOError, ssl.SSLWantReadError):
        return True
    except OSError:
        return False
    return False


def _read_until_closed(sock: socket.socket, timeout: float) -> bytes | None:
    """Everything the server sends until it closes; None if still open after ``timeout``."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        return None
    except OSError:  # a reset (reset_timedout_connection) is a close too
        pass
    return received


@pytest.mark.timeout(90)
def test_a_ussd_step_is_answered_through_nginx_while_50_slow_clients_are_connected(proxied):
    slow = SlowClients(proxied.https_port, SLOW_CLIENTS, cafile=proxied.cert)
    try:
        slow.wait_rounds(2)
        reply = proxied.step(proxied.url, "+919800000001")
        still_waiting = slow.unanswered()
    finally:
        slow.close()
    assert reply.status_code == 200
    assert reply.text.startswith("CON ")
    assert still_waiting == SLOW_CLIENTS  # nginx held every slow request meanwhile


@pytest.mark.timeout(90)
def test_nginx_drops_a_client_that_stops_sending_its_body(proxied):
    stalled = SlowClients(proxied.https_port, 1, cafile=proxied.cert, drip=False)
    try:
        # client_body_timeout is 10 s; 40 s is the bound of this test, not a measurement
        received = _read_until_closed(stalled.sockets[0], timeout=40)
    finally:
        stalled.close()
    assert received is not None, "nginx kept a stalled request body open"
    assert received == b"" or received.startswith(b"HTTP/1.1 408")


LIMITS = [("/ussd/africastalking", MAX_REQUEST_BYTES),
          ("/admin/import/slots", MAX_UPLOAD_BYTES),
          ("/api/v1/import/centers", MAX_UPLOAD_BYTES),
          ("/api/v1/imports", HealthWorkerSettings().import_max_megabytes << 20)]


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("path", "limit"), LIMITS)
def test_nginx_refuses_a_body_over_the_apps_own_limit_and_passes_one_at_it(proxied, path,
                                                                           limit):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    before = len(_access_log_lines(proxied.web, path))
    over = requests.post(proxied.url + path, data=b"a" * (limit + 1), headers=headers,
                         verify=str(proxied.cert), timeout=30)
    at = requests.post(proxied.url + path, data=b"a" * limit, headers=headers,
                       verify=str(proxied.cert), timeout=30)
    assert over.status_code == 413 and "nginx" in over.text  # refused by nginx itself
    # The one at the limit reached the web server, whose answer (an anonymous upload is refused
    # without being read) comes back whole: not a 502 of a connection reset mid-body.
    assert at.status_code not in (413, 502), (at.status_code, at.text[:200])
    assert len(_wait_for_access_log(proxied.web, path, before + 1)) == before + 1


@pytest.mark.timeout(90)
def test_an_anonymous_upload_is_refused_with_401_not_a_reset_connection(proxied):
    """The API refuses it before reading its body; gunicorn used to close the socket with the
    body unread, and about one in four came back as nginx's 502 (gateway/web/request_body.py)."""
    answers = Counter()
    for n in range(12):
        path, limit = LIMITS[2 + n % 2]  # the two API imports, at their limits
        answers[requests.post(proxied.url + path, data=b"a" * limit, verify=str(proxied.cert),
                              headers={"Content-Type": "text/csv"}, timeout=30).status_code] += 1
    assert answers == {401: 12}


@pytest.mark.timeout(90)
def test_the_app_believes_nginx_about_tls_but_not_a_forged_client_address(proxied):
    forged = {"X-Forwarded-For": "203.0.113.9"}
    via_proxy, around_proxy = (f"/proxy-check-{uuid.uuid4().hex[:8]}" for _ in range(2))
    through = requests.get(proxied.url + via_proxy, verify=str(proxied.cert), timeout=10,
                           headers=forged)
    direct = requests.get(proxied.direct_url + around_proxy, timeout=10, headers=forged)
    assert "Strict-Transport-Security" in through.headers  # X-Forwarded-Proto: https
    assert "Strict-Transport-Security" not in direct.headers
    [logged] = _wait_for_access_log(proxied.web, via_proxy, 1)
    assert logged.startswith("127.0.0.1 ")  # the address nginx saw, not the forged one
    if proxied.server == "gunicorn":  # granian logs the socket's peer, whatever the app read
        # around the proxy the forged address is believed: why gunicorn binds to loopback only
        [bypassed] = _wait_for_access_log(proxied.web, around_proxy, 1)
        assert bypassed.startswith("203.0.113.9 ")


def _access_log_lines(web: Process, path: str) -> list[str]:
    return [line for line in web.log.read_text(errors="replace").splitlines()
            if f" {path} HTTP/" in line]


def _wait_for_access_log(web: Process, path: str, count: int) -> list[str]:
    """The web server's access log lines for ``path``, once there are ``count`` (bounded)."""
    deadline = time.monotonic() + 10
    while len(lines := _access_log_lines(web, path)) < count:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return lines


@pytest.mark.timeout(90)
def test_without_nginx_50_slow_clients_starve_the_web_server(proxied):
    """The attack the proxy stops: straight at gunicorn, the same slow clients take every
    thread; straight at granian, every place its ``--backpressure`` allows. A normal step gets
    no answer within the client's timeout."""
    slow = SlowClients(proxied.web_port, SLOW_CLIENTS)
    try:
        slow.wait_rounds(1)
        with pytest.raises(requests.Timeout):
            proxied.step(proxied.direct_url, "+919800000002")
    finally:
        slow.close()
    # closed bodies end those requests; later tests get a free web server
    _wait_until(lambda: _answers(proxied.direct_url + "/healthz"), proxied.web)
