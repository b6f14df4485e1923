"""Sign-in: argon2 hashes, cookie flags, CSRF on every form, lock-out, roles."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.admin.auth import UserError, create_user
from gateway.admin.models import AdminUser, AuditEntry

from .conftest import PASSWORD


def test_password_is_stored_as_an_argon2_hash(db, users):
    with db.read() as session:
        user = session.scalar(select(AdminUser).where(AdminUser.username == "root"))
    assert user.password_hash.startswith("$argon2") and PASSWORD not in user.password_hash


def test_sign_in_sets_an_httponly_samesite_session_cookie(auth):
    response = auth.login()
    assert response.status_code == 302 and response.location.endswith("/admin/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_need_a_signed_in_user(client, users):
    response = client.get("/admin/centers")
    assert response.status_code == 302 and "/admin/login" in response.location


@pytest.mark.parametrize("path", ["/admin/login", "/admin/users", "/admin/logout"])
def test_a_post_without_the_csrf_token_is_refused(auth, client, path):
    auth.login()
    response = client.post(path, data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(auth):
    response = auth.login(password="nope")
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)


def test_repeated_failures_lock_the_account_even_for_the_right_password(auth, settings):
    for _ in range(settings.admin.max_failed_logins):
        auth.login(password="wrong password")
    response = auth.login()
    assert response.status_code == 401 and "locked" in response.get_data(as_text=True)


def test_logout_ends_the_session(auth, client):
    auth.login()
    auth.post("/admin/logout")
    assert client.get("/admin/").status_code == 302


def test_sign_in_is_in_the_audit_log(auth, db):
    auth.login()
    with db.read() as session:
        assert session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "login")) \
            == "root"


@pytest.mark.parametrize("username, password, role, district, field", [
    ("x", PASSWORD, "admin", None, "username"),
    ("newbie", "short", "admin", None, "password"),
    ("newbie", PASSWORD, "boss", None, "role"),
    ("newbie", PASSWORD, "district", "", "district"),
    ("root", PASSWORD, "admin", None, "username"),
])
def test_create_user_names_the_bad_field(db, users, username, password, role, district,
                                         field):
    with pytest.raises(UserError) as caught, db.write() as session:
        create_user(session, username, password, role, district)
    assert caught.value.field == field


@pytest.mark.parametrize("user, path, status", [
    ("watcher", "/admin/users", 403),
    ("patna", "/admin/audit", 403),
    ("patna", "/admin/menus/edit/main.yaml", 403),
    ("watcher", "/admin/centers/new", 403),
    ("root", "/admin/users", 200),
])
def test_roles_limit_pages(auth, client, user, path, status):
    auth.login(user)
    assert client.get(path).status_code == status


def test_queues_dashboard_is_behind_the_same_login(auth, client):
    assert client.get("/admin/rq/").status_code == 302
    auth.login("watcher")
    assert client.get("/admin/rq/").status_code == 200


def test_failed_sign_ins_from_one_address_are_capped_across_accounts(auth, client, settings):
    """Credential stuffing: each account stays under its own lock-out, the address does not."""
    limit = settings.admin.max_failed_logins_per_source_per_hour
    for n in range(limit):
        name = ("root", "patna", "lucknow", "watcher")[n % 4] if n < 4 else f"guess{n}"
        assert auth.login(name, "wrong password").status_code == 401
    refused = auth.login()  # the right password, from the same address
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "Too many failed sign-ins from your network" in refused.get_data(as_text=True)
    other = client.post("/admin/login", environ_base={"REMOTE_ADDR": "198.51.100.7"}, data={
        "username": "root", "password": PASSWORD, "csrf_token": auth.csrf()})
    assert other.status_code == 302  # another address signs in as usual


def test_every_sign_in_path_hashes_the_password_once(auth, settings, monkeypatch):
    """Equal work on every path, so response times name no account (a locked account used
    to answer in 5 ms, an unknown one in 276 ms)."""
    from gateway.admin import auth as module

    verified = []
    real = module._verify
    monkeypatch.setattr(module, "_verify",
                        lambda stored, given: verified.append(given) or real(stored, given))
    for _ in range(settings.admin.max_failed_logins):
        auth.login(password="wrong password")
    paths = {"locked": lambda: auth.login(), "unknown": lambda: auth.login("nobody")}
    for name, attempt in paths.items():
        verified.clear()
        attempt()
        assert len(verified) == 1, name


def _copied_cookie(client):
    """The session cookie as an attacker would copy it from the browser."""
    return client.get_cookie("session").value


def test_a_cookie_copied_before_sign_out_no_longer_works(auth, client, app):
    auth.login()
    copied = _copied_cookie(client)
    auth.post("/admin/logout")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/admin/").status_code == 302


def test_deactivation_ends_the_users_sessions_even_after_reactivation(auth, client, app, db):
    other = app.test_client()
    type(auth)(other).login(username="watcher")
    copied = _copied_cookie(other)
    auth.login()
    with db.read() as session:
        uid = session.scalar(select(AdminUser.id).where(AdminUser.username == "watcher"))
    auth.post(f"/admin/users/{uid}/active", {"active": "0"})
    auth.post(f"/admin/users/{uid}/active", {"active": "1"})
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/admin/").status_code == 302
