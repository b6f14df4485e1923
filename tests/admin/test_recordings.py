"""The console's voice recordings: a player per prompt and language, and an admin's MP3
that replaces the generated recording on the next call."""
from __future__ import annotations

import io

import pytest

from tests.ivr.conftest import VoicePhone

MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64


def upload(auth, key: str, data: bytes, lang: str = "hi"):
    return auth.post(f"/admin/recordings/{lang}/{key}",
                     {"audio": (io.BytesIO(data), "prompt.mp3")},
                     content_type="multipart/form-data")


@pytest.mark.usefixtures("demo_centers")
def test_an_admin_replaces_a_prompt_with_a_human_recording_that_callers_then_hear(auth, client):
    auth.login()
    page = client.get("/admin/recordings?lang=hi").get_data(as_text=True)
    assert "main.menu.option1" in page and "रजिस्टर करने के लिए 1 दबाएँ।" in page

    assert upload(auth, "main.menu.option1", MP3).status_code == 302
    page = client.get("/admin/recordings?lang=hi").get_data(as_text=True)
    assert 'src="/ivr/audio/hi/main.menu.option1.mp3"' in page
    assert client.get("/ivr/audio/hi/main.menu.option1.mp3").data == MP3

    caller = VoicePhone(client, "africastalking", phone="+919888888880")
    caller.call()
    menu = caller.press("2")  # Hindi: AT has no Hindi voice, so recordings play
    assert "http://localhost/ivr/audio/hi/main.menu.option1.mp3" in menu.played


def test_only_an_mp3_for_a_known_prompt_is_taken(auth, client):
    auth.login()
    page = upload(auth, "main.menu.option1", b"<html>not audio</html>")
    assert page.status_code == 302
    assert client.get("/ivr/audio/hi/main.menu.option1.mp3").status_code == 404
    assert upload(auth, "no.such.prompt", MP3).status_code == 404
    assert upload(auth, "main.menu.option1", MP3, lang="xx").status_code == 404
