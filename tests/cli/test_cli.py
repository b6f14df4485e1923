"""The vaxgate command line: db upgrade, demo-data, menus check, dial, run."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import func, select
from werkzeug.serving import make_server

from gateway.cli.commands import main
from gateway.storage import Center, Database, Slot


@pytest.fixture
def sqlite_config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(f"database_url: sqlite:///{tmp_path / 'cli.db'}\n")
    return path


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input,
                              catch_exceptions=False)


def test_db_upgrade_then_demo_data_loads_thirty_centers_in_four_states(sqlite_config, tmp_path):
    assert "newest schema" in invoke("--config", sqlite_config, "db", "upgrade").output
    loaded = invoke("--config", sqlite_config, "demo-data")
    assert "loaded" in loaded.output
    again = invoke("--config", sqlite_config, "demo-data")
    assert "nothing loaded" in again.output
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    with db.read() as session:
        centers = session.scalars(select(Center)).all()
        assert len(centers) >= 30
        assert {c.state for c in centers} == {"Bihar", "Uttar Pradesh", "West Bengal",
                                              "Chhattisgarh"}
        assert all(len(c.pincode) == 6 and c.pincode[0] != "0" for c in centers)
        assert session.scalar(select(func.count(func.distinct(Slot.date)))) == 7
        assert set(session.scalars(select(Slot.age_group).distinct())) == {"18-44", "45+"}
    db.dispose()


def test_menus_check_passes_on_the_shipped_menus():
    result = invoke("menus", "check")
    assert result.exit_code == 0 and "menus OK" in result.output


def test_menus_check_fails_with_the_error_path(tmp_path):
    from gateway import MENU_DIR

    for source in MENU_DIR.glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    booking = tmp_path / "booking.yaml"
    booking.write_text(booking.read_text(encoding="utf-8").replace(
        "next: pick_window", "next: pick_windowz", 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["menus", "check", "--dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "booking.yaml" in result.output and "pick_windowz" in result.output


def test_a_bad_config_is_reported_not_a_traceback(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("ussd:\n  session_ttl_seconds: soon\n")
    result = CliRunner().invoke(main, ["--config", str(path), "db", "upgrade"])
    assert result.exit_code != 0
    assert "ussd.session_ttl_seconds" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def live_gateway(app, demo_centers):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_dial_walks_a_session_from_the_terminal(live_gateway):
    keys = "\n".join(["1", "1", "Ram Lal", "1950", "1", "1", "4321", "800020", "1"]) + "\n"
    result = invoke("dial", "--url", live_gateway, "--phone", "+919812345678", input=keys)
    assert result.exit_code == 0
    assert "Language" in result.output
    assert "Registered Ram Lal" in result.output


def test_dial_says_when_the_gateway_is_unreachable():
    result = invoke("dial", "--url", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "cannot reach the gateway" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_vaxgate_run_starts_everything_on_embedded_redis_and_sqlite(tmp_path):
    port = _free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'run.db'}\nredis_url: ''\n")
    env = dict(os.environ, VAXGATE_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    env.pop("VAXGATE_REDIS_URL", None)
    env.pop("VAXGATE_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "--config", str(config), "run", "--port",
         str(port), "--web-workers", "1"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process)
        reply = requests.post(f"{base}/ussd/africastalking", timeout=10, data={
            "sessionId": "run-1", "serviceCode": "*384*1234#",
            "phoneNumber": "+919876543210", "text": ""})
        assert reply.text.startswith("CON ")
        time.sleep(3)  # the launcher stops everything if the web or worker process died
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert "demo data: loaded" in output
    assert "vaxgate is running" in output and "vaxgate dial" in output
    assert process.returncode == 0, output


def _wait_ready(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError("gateway did not become ready")
