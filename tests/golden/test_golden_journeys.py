"""Golden transcripts: what a caller sees on USSD and hears on IVR, per language, replayed
step by step against the recorded files in tests/golden/testdata (goflow's ``testdata``).

A menu changed on purpose? Regenerate with ``make golden`` and review the git diff."""
from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.golden import journeys

REGENERATE = ".venv/bin/python -m tests.golden.record"
TRANSCRIPTS = [(channel, lang) for channel in journeys.CHANNELS for lang in journeys.LANGUAGES]


@pytest.mark.usefixtures("golden_world")
@pytest.mark.parametrize(("channel", "lang"), TRANSCRIPTS,
                         ids=[f"{channel}_{lang}" for channel, lang in TRANSCRIPTS])
def test_caller_sees_and_hears_the_recorded_journey(client, regenerating, channel, lang):
    path = journeys.transcript_path(channel, lang)
    steps = journeys.play(client, channel, lang)
    if regenerating:
        _write(path, channel, lang, steps)
        return
    if not path.exists():
        pytest.fail(f"{_name(path)}: no transcript recorded; run {REGENERATE}", pytrace=False)
    problem = _difference(json.loads(path.read_text(encoding="utf-8"))["steps"], steps, lang)
    if problem:
        pytest.fail(f"{_name(path)} ({channel}, {lang}): {problem}\n"
                    f"If the change is intended, run {REGENERATE} and review the git diff.",
                    pytrace=False)


def _write(path: Path, channel: str, lang: str, steps: list[dict[str, Any]]) -> None:
    document = {"channel": channel, "language": lang, "phone": journeys.PHONES[lang],
                "clock": journeys.CLOCK.isoformat(), "steps": steps}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _difference(recorded: list[dict], live: list[dict], lang: str) -> str:
    """The first step that differs, as a readable diff ("" when none does)."""
    script = journeys.journey(lang)
    for number, (was, now) in enumerate(zip(recorded, live, strict=False), start=1):
        if was != now:
            return f"step {number} of {len(live)} ({script[number - 1].part}) differs" + \
                f"{_others(recorded, live, number)}\n" + _diff(was, now)
    if len(recorded) != len(live):
        return f"{len(recorded)} steps recorded, {len(live)} played"
    return ""


def _others(recorded: list[dict], live: list[dict], first: int) -> str:
    later = sum(was != now for was, now in zip(recorded[first:], live[first:], strict=False))
    return f" (and {later} later step{'s' if later > 1 else ''})" if later else ""


def _diff(was: dict, now: dict) -> str:
    """A unified diff of one step, the recorded file's text against the answer now."""
    lines = difflib.unified_diff(_step_lines(was), _step_lines(now), "recorded", "now",
                                 lineterm="")
    return "\n".join(lines)


def _step_lines(step: dict) -> list[str]:
    return json.dumps(step, ensure_ascii=False, indent=2).splitlines()


def _name(path: Path) -> str:
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)
