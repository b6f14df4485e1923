"""The command line's conventions: ``--version``, ``db current``/``db downgrade``, ``--json``
on the commands that report, the demo credentials again, and how ``vaxgate dial`` finds the
gateway (``--url``, then ``VAXGATE_URL``, then ``PORT``, then 8000)."""
from __future__ import annotations

import json
from importlib.metadata import version

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from gateway.cli.commands import main
from gateway.cli.common import gateway_url
from gateway.storage.database import alembic_config

CSV = ("name,birth_year,gender,phone,pincode\n"
       "Sita Devi,1950,F,9812345678,800001\n"
       "Nobody,1850,F,9812345679,800001\n")


def invoke(*args, input=None, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, env=env)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(f"database_url: sqlite:///{tmp_path / 'cli.db'}\nredis_url: ''\n")
    return path


def _newest_and_previous() -> tuple[str, str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    newest = script.get_revision(script.get_current_head())
    return newest.revision, newest.down_revision


def test_version_comes_from_the_installed_package():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == f"vaxgate, version {version('vaxgate')}\n"


def test_db_current_follows_upgrade_and_downgrade(config):
    newest, previous = _newest_and_previous()
    assert json.loads(invoke("--config", config, "db", "current", "--json").output)[
        "current"] is None

    invoke("--config", config, "db", "upgrade")
    assert invoke("--config", config, "db", "current").output.startswith(
        f"{newest} (the newest)")

    downgraded = invoke("--config", config, "db", "downgrade", previous, "--yes")
    assert downgraded.exit_code == 0, downgraded.output
    report = json.loads(invoke("--config", config, "db", "current", "--json").output)
    assert (report["current"], report["newest"], report["up_to_date"]) == (
        previous, newest, False)
    assert "run `vaxgate db upgrade`" in invoke("--config", config, "db", "current").output


def test_db_downgrade_asks_first_and_changes_nothing_when_refused(config):
    newest, previous = _newest_and_previous()
    invoke("--config", config, "db", "upgrade")

    refused = invoke("--config", config, "db", "downgrade", previous, input="n\n")

    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert json.loads(invoke("--config", config, "db", "current", "--json").output)[
        "current"] == newest


def test_db_downgrade_to_an_unknown_revision_is_one_line(config):
    invoke("--config", config, "db", "upgrade")
    result = invoke("--config", config, "db", "downgrade", "nope", "--yes")
    assert result.exit_code == 1
    assert "nope" in result.output and "Traceback" not in result.output


def test_menus_check_json_reports_ok_and_the_problems(tmp_path):
    from gateway import MENU_DIR

    ok = invoke("menus", "check", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True

    for source in MENU_DIR.glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"),
                                            encoding="utf-8")
    booking = tmp_path / "booking.yaml"
    booking.write_text(booking.read_text(encoding="utf-8").replace(
        "next: pick_window", "next: pick_windowz", 1), encoding="utf-8")
    broken = invoke("menus", "check", "--dir", tmp_path, "--json")
    report = json.loads(broken.stdout)
    assert broken.exit_code == 1 and report["ok"] is False
    assert any("pick_windowz" in error for error in report["errors"])


def test_retention_run_json_counts_per_kind(config):
    invoke("--config", config, "db", "upgrade")
    result = invoke("--config", config, "retention", "run", "--dry-run", "--json")
    report = json.loads(result.output)
    assert report["dry_run"] is True and report["sessions_skipped"] is True
    assert all(isinstance(count, int) for count in report["removed"].values())


def test_geo_pin_json_says_where_a_pin_code_is(config):
    invoke("--config", config, "db", "upgrade")

    report = json.loads(invoke("--config", config, "geo", "pin", "800020", "--json").output)

    assert (report["pincode"], report["district"], report["state"]) == (
        "800020", "Patna", "Bihar")
    assert isinstance(report["latitude"], float) and isinstance(report["also_districts"], list)


def test_geo_pin_before_the_first_migration_is_one_line(config):
    result = invoke("--config", config, "geo", "pin", "800020")

    assert result.exit_code == 1
    assert "run `vaxgate db upgrade`" in result.output and len(result.output.splitlines()) == 1


def test_import_registrations_json_lists_what_it_did(config, tmp_path):
    invoke("--config", config, "db", "upgrade")
    paper = tmp_path / "paper.csv"
    paper.write_text(CSV, encoding="utf-8")

    result = invoke("--config", config, "import", "registrations", paper, "--json")

    report = json.loads(result.stdout)
    assert (report["rows"], report["registered"]) == (2, 1)
    assert [rejected["line"] for rejected in report["rejected"]] == [3]


def test_admin_show_demo_prints_the_kept_credentials(tmp_path, monkeypatch):
    monkeypatch.setattr("gateway.cli.common.VAR_DIR", tmp_path)
    (tmp_path / "demo-admin.txt").write_text("admin s3cret-Pa55word\n")

    result = invoke("admin", "show-demo", env={"VAXGATE_URL": "http://127.0.0.1:8100"})

    assert result.exit_code == 0
    assert result.output.startswith(
        "sign in at http://127.0.0.1:8100/admin/ as admin / s3cret-Pa55word")
    assert json.loads(invoke("admin", "show-demo", "--json").output)["password"] == \
        "s3cret-Pa55word"


def test_admin_show_demo_says_where_it_looked_when_there_are_none(tmp_path, monkeypatch):
    monkeypatch.setattr("gateway.cli.common.VAR_DIR", tmp_path)
    result = invoke("admin", "show-demo")
    assert result.exit_code == 1
    assert str(tmp_path / "demo-admin.txt") in result.output
    assert "vaxgate admin create-user" in result.output


@pytest.mark.parametrize("url, env, expected", [
    ("http://10.0.0.5:9000/", {"VAXGATE_URL": "http://a:1", "PORT": "2"}, "http://10.0.0.5:9000"),
    (None, {"VAXGATE_URL": "http://a:1/", "PORT": "2"}, "http://a:1"),
    (None, {"PORT": "8100"}, "http://127.0.0.1:8100"),
    (None, {}, "http://127.0.0.1:8000"),
])
def test_the_gateway_url_comes_from_the_flag_then_vaxgate_url_then_port(monkeypatch, url,
                                                                       env, expected):
    for name in ("VAXGATE_URL", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert gateway_url(url) == expected


@pytest.mark.parametrize("args, env", [
    (("--url", "http://127.0.0.1:9"), {}),
    ((), {"VAXGATE_URL": "http://127.0.0.1:9"}),
    ((), {"VAXGATE_URL": None, "PORT": "9"}),
])
def test_dial_names_the_url_it_tried_and_how_to_choose_another_in_one_line(args, env):
    result = CliRunner().invoke(main, ["dial", *args], env=env)

    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if "cannot reach" in line]
    assert "http://127.0.0.1:9 " in line
    assert all(hint in line for hint in ("--url", "VAXGATE_URL", "PORT", "make run"))
    assert "Traceback" not in result.output and "Errno" not in result.output
