"""Users cannot lock the console out: no self- or last-admin deactivation, a deactivated
user is told so, and `vaxgate admin` reactivates and resets a password."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from gateway.admin.auth import authenticate
from gateway.admin.bootstrap import ensure_demo_admin
from gateway.admin.models import AdminUser, AuditEntry
from gateway.api.keys import create_key
from gateway.cli.commands import main

from .conftest import PASSWORD


def _uid(db, username: str) -> int:
    with db.read() as session:
        return session.scalar(select(AdminUser.id).where(AdminUser.username == username))


def _active(db, username: str) -> bool:
    with db.read() as session:
        return session.scalar(select(AdminUser.active).where(AdminUser.username == username))


def test_an_admin_cannot_deactivate_themself(auth, client, db):
    auth.login()
    page = auth.post(f"/admin/users/{_uid(db, 'root')}/active", {"active": "0"},
                     follow_redirects=True).get_data(as_text=True)
    assert "You cannot deactivate your own account" in page and _active(db, "root")


def test_the_last_active_admin_cannot_be_deactivated_through_the_api(client, db, users):
    with db.write() as session:
        _, key = create_key(session, "ops", "admin", None, "test")
    answer = client.patch(f"/api/v1/users/{_uid(db, 'root')}", json={"active": False},
                          headers={"X-API-Key": key})
    assert answer.status_code == 409 and "last active admin" in answer.get_json()["detail"]
    assert _active(db, "root")


def test_deactivation_asks_first_and_others_can_be_deactivated(auth, client, db):
    auth.login()
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'data-confirm="Deactivate watcher?' in page
    assert page.count("data-confirm=\"Deactivate") == len(["patna", "lucknow", "watcher"])
    answer = auth.post(f"/admin/users/{_uid(db, 'watcher')}/active", {"active": "0"},
                       follow_redirects=True)
    assert "watcher deactivated." in answer.get_data(as_text=True)
    assert not _active(db, "watcher")


def test_a_deactivated_user_is_told_so_but_only_with_the_right_password(auth, client, db):
    with db.write() as session:
        session.get(AdminUser, _uid(db, "watcher")).active = False
    right = auth.login("watcher").get_data(as_text=True)
    assert "This account has been deactivated" in right
    wrong = auth.login("watcher", "not the password").get_data(as_text=True)
    assert "Wrong username or password." in wrong and "deactivated" not in wrong


def _cli(database_url, tmp_path, *args, env=None):
    config = tmp_path / "config.yaml"
    config.write_text(f"database_url: {database_url}\n")
    return CliRunner().invoke(main, ["--config", str(config), "admin", *args], env=env)


def test_the_command_line_reactivates_and_resets_a_password(db, users, database_url,
                                                            tmp_path, settings):
    with db.write() as session:
        user = session.get(AdminUser, _uid(db, "root"))
        user.active, user.failed_logins = False, 3
    done = _cli(database_url, tmp_path, "reactivate", "ROOT")
    assert done.exit_code == 0 and "reactivated 'root'" in done.output
    reset = _cli(database_url, tmp_path, "reset-password", "root",
                 env={"VAXGATE_ADMIN_PASSWORD": "a brand new password"})
    assert reset.exit_code == 0, reset.output
    with db.write() as session:
        assert authenticate(session, "root", "a brand new password", settings.admin)[0]
        assert authenticate(session, "root", PASSWORD, settings.admin)[1] == "invalid"
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "cli"))
        assert set(actions) == {"user.active", "user.password"}
    unknown = _cli(database_url, tmp_path, "reactivate", "nobody")
    assert unknown.exit_code == 1 and "no user 'nobody'" in unknown.output


def test_vaxgate_run_stops_printing_demo_credentials_that_no_longer_work(db, settings,
                                                                        tmp_path):
    credentials = tmp_path / "demo-admin.txt"
    assert "as admin / " in ensure_demo_admin(settings, credentials)
    with db.write() as session:
        session.scalar(select(AdminUser)).active = False
    line = ensure_demo_admin(settings, credentials)
    assert "was deactivated (`vaxgate admin reactivate admin`)" in line and " / " not in line
