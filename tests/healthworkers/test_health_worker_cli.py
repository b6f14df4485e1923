"""`vaxgate healthworker create|list|unlock` and `vaxgate import registrations` on the test
database."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from gateway.cli.commands import main
from gateway.healthworkers import accounts

from .conftest import CENTER_CODE


@pytest.fixture
def config(tmp_path, database_url):
    path = tmp_path / "config.yaml"
    path.write_text(f"database_url: {database_url}\n")
    return path


def invoke(config, *args):
    return CliRunner().invoke(main, ["--config", str(config), *map(str, args)])


@pytest.mark.usefixtures("demo_centers")
def test_create_then_list_shows_the_account_without_a_pin(config):
    made = invoke(config, "healthworker", "create", "--name", "asha kumari",
                  "--phone", "9876543210", "--center", CENTER_CODE)
    listed = invoke(config, "healthworker", "list")

    assert made.exit_code == 0, made.output
    assert "Asha Kumari" in listed.output and "+919876543210" in listed.output
    assert "DEMO002 (Patna)  no PIN yet, unlocked" in listed.output


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("args, message", [
    (("--phone", "12", "--center", CENTER_CODE), "--phone"),
    (("--phone", "9876543210", "--center", "NOPE"), "no center with code 'NOPE'"),
])
def test_create_names_the_bad_option(config, args, message):
    result = invoke(config, "healthworker", "create", "--name", "Asha", *args)
    assert result.exit_code == 2 and message in result.output


def test_unlock_ends_a_lock(config, db, worker_with_pin, settings):
    with db.write() as session:
        worker = accounts.get(session, worker_with_pin)
        for _ in range(settings.health_workers.max_pin_failures):
            accounts.check_pin(session, worker, "0000", settings.health_workers)
    assert "LOCKED until" in invoke(config, "healthworker", "list").output

    result = invoke(config, "healthworker", "unlock", worker_with_pin)

    assert result.exit_code == 0 and "PIN set, unlocked" in result.output
    assert invoke(config, "healthworker", "unlock", 999).exit_code == 1


def test_unlock_clears_the_days_wrong_pin_count_when_redis_answers(
        config, worker_with_pin, settings, redis_client, redis_url, monkeypatch):
    for name in ("VAXGATE_REDIS_URL", "VAXGATE_SESSION_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)  # the config files below name the Redis
    daily = accounts.daily_failures(redis_client, settings.health_workers)
    for _ in range(settings.health_workers.max_pin_failures_per_day):
        daily.fail(str(worker_with_pin))
    unreachable = config.parent / "unreachable.yaml"
    unreachable.write_text(config.read_text() + "redis_url: unix:///nonexistent/redis.sock\n")

    missed = invoke(unreachable, "healthworker", "unlock", worker_with_pin)
    assert missed.exit_code == 0 and "was not reset (Redis did not answer" in missed.output
    assert daily.retry_after(str(worker_with_pin)) > 0

    with_redis = config.parent / "with-redis.yaml"
    with_redis.write_text(config.read_text() + f"redis_url: {redis_url}\n")
    done = invoke(with_redis, "healthworker", "unlock", worker_with_pin)
    assert done.exit_code == 0 and "not reset" not in done.output
    assert daily.retry_after(str(worker_with_pin)) == 0


def test_import_registrations_prints_rejected_lines_and_a_summary(config, db, tmp_path):
    path = tmp_path / "paper.csv"
    path.write_bytes("name,birth_year,gender,phone,pincode\nJosé,1950,M,9812345678,800001\n"
                     "Ram,1950,M,9812345678,8000011\n".encode("cp1252"))

    first = invoke(config, "import", "registrations", path)
    second = invoke(config, "import", "registrations", path)

    assert "line 3: pincode: '8000011' is not 6 digits starting 1-9" in first.output
    assert "2 rows (cp1252): 1 registered, 0 already known" in first.output
    assert "100%" in first.output
    assert "2 rows (cp1252): 0 registered, 1 already known" in second.output


def test_import_refuses_a_file_without_the_columns(config, tmp_path):
    path = tmp_path / "paper.csv"
    path.write_text("who,when\nSita,1950\n")
    result = invoke(config, "import", "registrations", path)
    assert result.exit_code == 1 and "missing column(s): name, birth_year" in result.output
