"""Menus from the console: inline errors with paths, preview, publish to every worker,
sessions in progress finish on their version, roll back."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from gateway import create_app
from gateway.admin.models import AuditEntry, MenuVersion
from tests.conftest import UssdPhone

OLD_MENU = 'prompt: {en: "VaxGate COVID vaccination"'
NEW_MENU = 'prompt: {en: "VaxGate NEW menu"'


def main_yaml(client) -> str:
    return client.application.extensions["vaxgate"].menus.live_files()["main.yaml"]


def publish(auth, text: str, name: str = "main.yaml"):
    return auth.post(f"/admin/menus/edit/{name}", {"text": text, "action": "publish",
                                                     "note": "test"})


@pytest.mark.parametrize("change, expected", [
    (("next: save_language", "next: nowhere_at_all"),
     r"main.yaml: screens.pick_language.options\[\d\].next: 'nowhere_at_all' does not exist"),
    (("Welcome to VaxGate.", "Welcome " + "x" * 200),
     r"main.yaml: screens.pick_language \[en\] page 1: \d+ chars > \d+"),
    (("screens:", "screens: [oops"), r"main.yaml: invalid YAML at line \d+"),
])
def test_a_broken_menu_shows_the_error_path_inline_and_is_not_published(
        auth, client, db, change, expected):
    auth.login()
    response = publish(auth, main_yaml(client).replace(*change, 1))
    assert response.status_code == 422
    assert re.search(expected, html.unescape(response.get_data(as_text=True)))
    with db.read() as session:
        assert session.scalar(select(MenuVersion)) is None


def test_check_previews_every_screen_in_every_language_with_char_counts(auth, client):
    auth.login()
    response = auth.post("/admin/menus/edit/main.yaml", {"text": main_yaml(client),
                                                         "action": "check"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "main.pick_language" in page and "/182 chars" in page and "/80 chars" in page


def test_full_preview_lists_every_journey(auth, client):
    auth.login()
    page = client.get("/admin/menus/preview").get_data(as_text=True)
    for journey in ("main.", "registration.", "booking.", "appointments."):
        assert journey in page


@pytest.mark.usefixtures("demo_centers")
def test_publish_takes_effect_for_new_sessions_and_old_ones_finish_on_their_version(
        auth, client, db):
    auth.login()
    before = UssdPhone(client, "+919812340001")
    assert "Language" in before.dial()
    assert publish(auth, main_yaml(client).replace(OLD_MENU, NEW_MENU)).status_code == 302
    assert "VaxGate COVID vaccination" in before.send("1")
    after = UssdPhone(client, "+919812340002")
    after.dial()
    assert "VaxGate NEW menu" in after.send("1")
    with db.read() as session:
        row = session.scalar(select(MenuVersion))
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "menus.publish"))
    assert row.author == "root" and OLD_MENU in audit.after.replace('\\"', '"')


@pytest.mark.usefixtures("demo_centers")
def test_another_worker_picks_up_a_published_version_without_a_restart(
        auth, client, settings):
    other = create_app(settings).test_client()  # a second web worker
    UssdPhone(other, "+919812340003").dial()  # it has loaded the built-in menus
    auth.login()
    publish(auth, main_yaml(client).replace(OLD_MENU, NEW_MENU))
    other.application.extensions["vaxgate"].menus.invalidate()  # its once-a-second check
    phone = UssdPhone(other, "+919812340004")
    phone.dial()
    assert "VaxGate NEW menu" in phone.send("1")


@pytest.mark.usefixtures("demo_centers")
def test_roll_back_publishes_an_earlier_version_again(auth, client, db):
    auth.login()
    original = main_yaml(client)
    publish(auth, original)
    publish(auth, original.replace(OLD_MENU, NEW_MENU))
    with db.read() as session:
        first = session.scalar(select(MenuVersion).order_by(MenuVersion.id))
    assert auth.post(f"/admin/menus/rollback/{first.id}").status_code == 302
    phone = UssdPhone(client, "+919812340005")
    phone.dial()
    assert "VaxGate COVID vaccination" in phone.send("1")
    assert "rollback to #" in client.get("/admin/menus").get_data(as_text=True)


def test_a_session_on_a_version_this_worker_never_loaded_is_loaded_from_sql(
        auth, client, settings):
    auth.login()
    publish(auth, main_yaml(client).replace(OLD_MENU, NEW_MENU))
    version = client.application.extensions["vaxgate"].flows.version
    fresh = create_app(settings).extensions["vaxgate"].menus
    assert fresh.get(version).version == version
    assert fresh.get("000000000000") is None
