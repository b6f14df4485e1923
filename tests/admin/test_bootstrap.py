"""The first users: `vaxgate admin create-user` and the demo admin of `vaxgate run`."""
from __future__ import annotations

import stat

from click.testing import CliRunner
from sqlalchemy import select

from gateway.admin.auth import authenticate
from gateway.admin.bootstrap import ensure_demo_admin
from gateway.admin.models import AdminUser
from gateway.cli.commands import main


def invoke(database_url, tmp_path, *args):
    config = tmp_path / "config.yaml"
    config.write_text(f"database_url: {database_url}\n")
    return CliRunner().invoke(main, ["--config", str(config), "admin", "create-user", *args])


def test_create_user_from_the_command_line(db, database_url, tmp_path):
    result = invoke(database_url, tmp_path, "--username", "Asha", "--role", "district",
                    "--district", "Patna", "--password", "long enough pw")
    assert result.exit_code == 0, result.output
    assert "created district user 'asha' for Patna" in result.output
    with db.read() as session:
        user = session.scalar(select(AdminUser))
    assert (user.username, user.role, user.district) == ("asha", "district", "Patna")


def test_create_user_takes_the_state_of_a_district_two_states_share(db, database_url,
                                                                     tmp_path):
    args = ("--username", "aurangabad", "--role", "district", "--district", "Aurangabad",
            "--password", "long enough pw")
    refused = invoke(database_url, tmp_path, *args)
    assert refused.exit_code == 1 and "state: Aurangabad is a district of Bihar and of " \
        "Maharashtra" in refused.output
    made = invoke(database_url, tmp_path, *args, "--state", "maharashtra")
    assert made.exit_code == 0 and "for Aurangabad, Maharashtra" in made.output, made.output
    with db.read() as session:
        user = session.scalar(select(AdminUser))
    assert (user.state, user.district) == ("Maharashtra", "Aurangabad")


def test_create_user_refuses_a_short_password_naming_the_field(db, database_url, tmp_path):
    result = invoke(database_url, tmp_path, "--username", "asha", "--password", "short")
    assert result.exit_code == 1 and "password: at least 10 characters" in result.output


def test_the_demo_admin_is_created_once_and_its_password_printed_each_run(db, settings,
                                                                          tmp_path):
    credentials = tmp_path / "var" / "demo-admin.txt"
    first = ensure_demo_admin(settings, credentials)
    again = ensure_demo_admin(settings, credentials)
    assert first == again and "as admin / " in first
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    password = first.split(" / ")[1].split()[0]
    with db.write() as session:
        user, reason = authenticate(session, "admin", password, settings.admin)
    assert user is not None and reason == ""
