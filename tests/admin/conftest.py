"""Admin fixtures: users of each role and a signed-in test client (AuthActions, as in the
Flask tutorial)."""
from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from gateway.admin import auth as auth_module
from gateway.admin.auth import create_user

PASSWORD = "correct horse battery"
USERS = {"root": ("admin", None), "patna": ("district", "Patna"),
         "lucknow": ("district", "Lucknow"), "watcher": ("viewer", None)}


class AuthActions:
    """Sign in and out through the real forms, carrying the CSRF token."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str = "/admin/login") -> str:
        page = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def login(self, username: str = "root", password: str = PASSWORD):
        return self.client.post("/admin/login", data={
            "username": username, "password": password, "csrf_token": self.csrf()})

    def post(self, path: str, data: dict | None = None, **kwargs):
        """POST a console form with a valid CSRF token."""
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf("/admin/")},
                                **kwargs)


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Real argon2, with test-sized cost (production keeps argon2-cffi's defaults)."""
    monkeypatch.setattr(auth_module, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                              parallelism=1))


@pytest.fixture
def users(db):
    with db.write() as session:
        for name, (role, district) in USERS.items():
            create_user(session, name, PASSWORD, role, district)
    return USERS


@pytest.fixture
def auth(client, users) -> AuthActions:
    return AuthActions(client)
