"""Menu versions: a stale save is refused with the other admin's diff, any two versions
compare line by line, the built-in menus come back in one click, the audit shows diffs."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from gateway.admin.models import MenuVersion
from tests.admin.test_menus import NEW_MENU, OLD_MENU, main_yaml
from tests.conftest import UssdPhone


def _save(auth, text: str, base: str):
    return auth.post("/admin/menus/edit/main.yaml", {"text": text, "base": base,
                                                     "action": "publish", "note": "test"})


def test_a_save_based_on_a_stale_version_is_refused_with_the_diff(auth, client, db):
    auth.login()
    opened = main_yaml(client)  # two admins open the same file
    assert _save(auth, opened.replace(OLD_MENU, NEW_MENU), opened).status_code == 302
    late = _save(auth, opened.replace("Welcome to VaxGate.", "Hello."), opened)
    page = late.get_data(as_text=True)
    assert late.status_code == 409 and "someone published a change to main.yaml" in page
    assert '<span class="diff-add">+' in page and "VaxGate NEW menu" in page
    with db.read() as session:
        assert len(session.scalars(select(MenuVersion)).all()) == 1


def test_two_versions_compare_and_the_built_in_menus_come_back(auth, client, db):
    auth.login()
    original = main_yaml(client)
    _save(auth, original.replace(OLD_MENU, NEW_MENU), original)
    with db.read() as session:
        first = session.scalar(select(MenuVersion.id))
    diff = client.get(f"/admin/menus/diff?from=builtin&to={first}").get_data(as_text=True)
    assert "main.yaml" in diff and "diff-del" in diff and "VaxGate NEW menu" in diff
    assert client.get("/admin/menus/diff?from=99999&to=builtin").status_code == 404
    assert auth.post("/admin/menus/revert-builtin").status_code == 302
    assert main_yaml(client) == original
    phone = UssdPhone(client, "+919812340006")
    phone.dial()
    assert "VaxGate COVID vaccination" in phone.send("1")
    audit = client.get("/admin/audit?action=menus.publish").get_data(as_text=True)
    assert audit.count('class="diff"') == 2 and "back to the built-in menus" in audit


def test_a_hindi_prompt_edited_in_the_form_is_checked_previewed_and_published(auth, client):
    auth.login()
    original = main_yaml(client)
    form = client.get("/admin/menus/prompts/main.yaml").get_data(as_text=True)
    assert 'name="p:menu:hi"' in form and "कोविड टीकाकरण" in form
    checked = auth.post("/admin/menus/prompts/main.yaml", {"p:menu:hi": "टीका बुकिंग"})
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "टीका बुकिंग" in page and 'id="menu-form"' in page
    changed = original.replace('hi: "कोविड टीकाकरण"', 'hi: "टीका बुकिंग"')
    shown = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert html.unescape(shown) == changed  # that one value changed, every other line kept
    assert _save(auth, changed, original).status_code == 302
    phone = UssdPhone(client, "+919812340007")
    phone.dial()
    assert "टीका बुकिंग" in phone.send("2")
    too_long = auth.post("/admin/menus/prompts/main.yaml", {"p:menu:hi": "क" * 90})
    assert too_long.status_code == 422 and "chars &gt; 80" in too_long.get_data(as_text=True)


def test_a_draft_is_seen_only_by_its_test_phones_until_it_is_published(auth, client, db):
    auth.login()
    original = main_yaml(client)
    saved = auth.post("/admin/menus/edit/main.yaml", {
        "text": original.replace(OLD_MENU, NEW_MENU), "base": original, "action": "draft",
        "phones": "9812340008"}, follow_redirects=True).get_data(as_text=True)
    assert "Draft saved. +919812340008 now see it" in saved and "Draft being tried" in saved
    tester, other = UssdPhone(client, "+919812340008"), UssdPhone(client, "+919812340009")
    tester.dial()
    other.dial()
    assert "VaxGate NEW menu" in tester.send("1")
    assert "VaxGate COVID vaccination" in other.send("1")
    with db.read() as session:
        assert session.scalar(select(MenuVersion)) is None  # nothing published yet
    assert auth.post("/admin/menus/draft/publish").status_code == 302
    late = UssdPhone(client, "+919812340010")
    late.dial()
    assert "VaxGate NEW menu" in late.send("1")
    assert "Draft being tried" not in client.get("/admin/menus").get_data(as_text=True)
    refused = auth.post("/admin/menus/edit/main.yaml", {
        "text": original, "base": main_yaml(client), "action": "draft", "phones": "12"})
    assert "Test phones:" in refused.get_data(as_text=True)
