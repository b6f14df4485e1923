"""`vaxgate menus check` lists every voice prompt with neither a TTS voice nor a recording."""
from __future__ import annotations

import shutil

import pytest

from gateway import MENU_DIR
from gateway.flows import load_flows, parse_flows
from gateway.ussd_menus.check import voice_gaps


def test_every_bengali_prompt_without_a_recording_is_reported_and_a_recording_clears_it(tmp_path):
    flows = load_flows(MENU_DIR)
    gaps = voice_gaps(flows, {"en", "hi"}, tmp_path)
    assert "registration.yaml: screens.name.prompt [bn] voice: no TTS voice and no recording " \
           "(bn/registration.name.mp3)" in gaps
    assert "main.yaml: screens.pick_language.options[2] [bn] voice: no TTS voice and no " \
           "recording (bn/main.pick_language.option2.mp3)" in gaps
    assert any(gap.startswith("messages.yaml: voice.more [bn]") for gap in gaps)
    assert not any("[en]" in gap or "[hi]" in gap for gap in gaps)

    (tmp_path / "bn").mkdir()
    (tmp_path / "bn" / "registration.name.mp3").write_bytes(b"ID3")
    after = voice_gaps(flows, {"en", "hi"}, tmp_path)
    assert len(after) == len(gaps) - 1


def test_no_gaps_when_every_language_has_a_voice(tmp_path):
    assert voice_gaps(load_flows(MENU_DIR), {"en", "hi", "bn"}, tmp_path) == []


@pytest.mark.parametrize("screen, addition, error", [
    ("name", '    voice_record: "yes"\n', "screens.name.voice_record: must be true or false"),
    ("name", "    audio: {xx: a.mp3}\n", "screens.name.audio: unknown language 'xx'"),
    ("name", "    audio: [a.mp3]\n",
     "screens.name.audio: must map languages to audio file names or URLs"),
    ("pincode", '    voice: {en: "Say it"}\n', "screens.pincode.voice: missing translation 'hi'"),
])
def test_voice_keys_in_a_menu_are_validated_with_their_path(tmp_path, screen, addition, error):
    menus = tmp_path / "menus"
    shutil.copytree(MENU_DIR, menus, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = menus / "registration.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    voice_record: true", "")
    text = text.replace(f"  {screen}:\n", f"  {screen}:\n" + addition, 1)
    path.write_text(text, encoding="utf-8")
    _, errors = parse_flows(menus)
    assert f"registration.yaml: {error}" in errors
