"""`vaxgate menus check` lists every voice prompt with neither a TTS voice nor a recording."""
from __future__ import annotations

from gateway import MENU_DIR
from gateway.flows import load_flows
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
