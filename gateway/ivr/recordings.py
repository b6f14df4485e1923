"""Recordings of every fixed voice text in every language, made offline with espeak-ng.

    vaxgate menus recordings     # -> <audio_dir>/generated/<menu version>/<lang>/<key>.wav

Keys are those the Speaker plays (docs/ivr.md): a screen (``registration.name``), a menu
option (``main.menu.option1``) or a message (``voice.more``). A text with variables ("Your
code is {reference}") is recorded in its fixed parts (``<key>.part1``, ``<key>.part2``...),
which the Speaker plays around the values. A human recording an admin uploaded
(``<audio_dir>/<lang>/<key>.mp3``) wins over a generated one. Files already built are kept,
so building again after a publish speaks only the new version's texts.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway.config import PROJECT_DIR, IvrSettings
from gateway.flows import FlowSet
from gateway.flows.catalog import PLACEHOLDER, fill, pick
from gateway.text.i18n import LANGUAGES

ENGINE = "espeak-ng"
ENGINE_VOICES = {"en": "en", "hi": "hi", "bn": "bn"}  # espeak-ng voice per menu language
WORDS_PER_MINUTE = "140"  # a little slower than espeak-ng's 175: callers are on a phone line
SPOKEN_GROUPS = ("voice", "error", "confirm")  # messages.yaml groups the IVR speaks
_LETTER = re.compile(r"\w")


def audio_folder(ivr: IvrSettings) -> Path:
    """``ivr.audio_dir`` as an absolute path."""
    folder = Path(ivr.audio_dir)
    return folder if folder.is_absolute() else PROJECT_DIR / folder


def generated_folder(root: Path, version: str) -> Path:
    """Where the generated recordings of one menu version live."""
    return root / "generated" / version


def segments(template: str) -> list[str]:
    """The fixed parts of a template around its {variables} that have words to speak."""
    return [part.strip() for part in PLACEHOLDER.split(template)[::2] if _LETTER.search(part)]


def voice_templates(flows: FlowSet, lang: str) -> dict[str, str]:
    """Every fixed text the IVR speaks in ``lang``, by recording key (before variables)."""
    texts: dict[str, str] = {}
    for screen_id, definition in flows.screens.items():
        if not (definition.interactive or definition.type == "end"):
            continue
        source = definition.voice or definition.prompt
        if source:
            texts[screen_id] = pick(source, lang).replace("\n", ". ")
        for number, option in enumerate(definition.options, start=1):
            label = pick(option.voice or option.label, lang)
            texts[f"{screen_id}.option{number}"] = (
                fill(label, {"key": number}) if "{key}" in label else
                flows.messages.text("voice.option", lang, {"label": label, "key": number}))
    for key in flows.messages.keys():
        if key.partition(".")[0] in SPOKEN_GROUPS:
            texts[key] = flows.messages.template(key, lang)
    for number, key in enumerate(("voice.yes", "voice.no"), start=1):
        if key in flows.messages:
            texts[key] = flows.messages.text(key, lang, {"key": number})
    return texts


def recording_texts(flows: FlowSet, lang: str) -> dict[str, str]:
    """What to record in ``lang``: a text without variables whole, else each fixed part."""
    found: dict[str, str] = {}
    for key, template in voice_templates(flows, lang).items():
        if PLACEHOLDER.search(template):
            found.update({f"{key}.part{n}": part
                          for n, part in enumerate(segments(template), start=1)})
        elif _LETTER.search(template):
            found[key] = template
    return found


@dataclass(frozen=True)
class BuildResult:
    """How many recordings were made and how many were already there."""

    made: int
    kept: int
    folder: Path


def engine_available() -> bool:
    """True if espeak-ng is installed (Debian: ``apt-get install espeak-ng``)."""
    return shutil.which(ENGINE) is not None


def build(flows: FlowSet, root: Path, languages: Iterable[str] = LANGUAGES,
          only: tuple[str, ...] = ()) -> BuildResult:
    """Record every text of ``flows`` (or those whose key starts with one of ``only``) that
    is not built yet."""
    folder = generated_folder(root, flows.version)
    made = kept = 0
    for lang in languages:
        (folder / lang).mkdir(parents=True, exist_ok=True)
        for key, text in sorted(recording_texts(flows, lang).items()):
            target = folder / lang / f"{key}.wav"
            if only and not key.startswith(only):
                continue
            if target.is_file():
                kept += 1
                continue
            speak_to_file(text, lang, target)
            made += 1
    return BuildResult(made, kept, folder)


def speak_to_file(text: str, lang: str, target: Path) -> None:
    """Synthesise ``text`` in ``lang`` into the WAV file ``target`` (written atomically)."""
    partial = target.with_suffix(".part.wav")
    subprocess.run([ENGINE, "-v", ENGINE_VOICES[lang], "-s", WORDS_PER_MINUTE,
                    "-w", str(partial), "--stdin"], input=text.encode(), check=True,
                   timeout=60, capture_output=True)  # stdin: a text may start with "-"
    partial.replace(target)
