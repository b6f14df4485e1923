"""Which screen a USSD answer is, for the benches: every answer is checked, not only counted.

The English texts come from the menus themselves (gateway/ussd_menus/*.yaml: each screen's
``prompt``, and messages.yaml's ``error.*`` and ``session.*``), so a reworded prompt does not
turn every answer into an error. A template becomes a pattern that must match the start of
the screen: its literal parts as written, each ``{placeholder}`` as any text on that line
(the renderer cuts long values first, so only a template's first line is used).

``check(body, expected)`` is what the benches call per answer: None when ``body`` is one of
the ``expected`` screens with the right ``CON``/``END``, else the kind of error to count, e.g.
``queued`` (admission queue), ``rate limited``, ``try again``, ``invalid answer`` or
``wrong screen: booking.no_slots``. ``check_voice(twiml, expected)`` does the same for an
IVR answer, with each screen's ``voice`` (else its prompt) and messages.yaml's ``voice.*``.
"""
from __future__ import annotations

import functools
import html
import re
from pathlib import Path

import yaml

MENUS = Path(__file__).resolve().parent.parent / "gateway" / "ussd_menus"
PLACEHOLDER = re.compile(r"\{(\w+)\}")

# messages.yaml keys whose screen means the step was not done, by the error kind counted
PROBLEMS = {
    "session.queued": "queued",
    "session.busy": "busy",
    "session.rate_limited": "rate limited",
    "session.try_again": "try again",
    "session.try_again_later": "try again",
    "session.error_end": "error screen",
    "session.too_many_invalid": "too many invalid answers",
    "session.too_long": "session too long",
    "session.unknown_code": "unknown service code",
    "session.resume": "resume offered",
}

# the same for an IVR answer: its spoken texts that mean the step was not done
VOICE_PROBLEMS = {
    **PROBLEMS,
    "voice.try_again_later": "try again",
    "voice.error_end": "error screen",
    "voice.too_many_invalid": "too many invalid answers",
    "voice.no_input": "no input heard",
    "voice.goodbye_no_input": "no input heard",
    "voice.goodbye_not_begun": "no input heard",
    "voice.resume": "resume offered",
}

# the screen each step of the bench's journey (Callers in ussd_bench.py) must answer with
JOURNEY = [
    ("main.pick_language",),            # dial (a new phone)
    ("main.menu",),                     # 1 English
    ("registration.name",),             # 1 Register a person
    ("registration.birth_year",),       # the name
    ("registration.gender",),           # the year
    ("registration.id_type",),          # 2 Female
    ("registration.id_last4",),         # 1 Aadhaar
    ("registration.pincode",),          # 4 digits
    ("registration.confirm",),          # the PIN code
    ("registration.registered",),       # 1 Yes
    ("booking.pick_date",),             # 1 Book a slot now
    ("booking.pick_center", "booking.pick_far_center"),  # the first date
    ("booking.pick_window",),           # the first center
    ("booking.confirm",),               # the first window
    ("booking.booked",),                # 1 Yes: END Booked! Code ...
]
BOOKING_CODE = re.compile(r"Code [A-Z0-9]{6}\b")


def _english(prompt) -> str:
    """The English template of a ``prompt:`` (a mapping by language, or one string)."""
    if isinstance(prompt, dict):
        return str(prompt.get("en") or next(iter(prompt.values()), ""))
    return str(prompt or "")


def _pattern(template: str) -> re.Pattern[str]:
    """The template's first line as a pattern for the start of a screen."""
    first = template.split("\n", 1)[0]
    parts = PLACEHOLDER.split(first)  # literal, name, literal, name, ...
    return re.compile("".join(re.escape(part) if i % 2 == 0 else "[^\n]*?"
                              for i, part in enumerate(parts)))


def patterns() -> dict[str, re.Pattern[str]]:
    """``flow.screen`` and ``group.message`` -> pattern, from the menus' YAML files."""
    return _menus()[0]


def voice_patterns() -> dict[str, re.Pattern[str]]:
    """The same for what IVR says: a screen's ``voice`` (else its prompt), ``voice.*``."""
    return _menus()[2]


def final_screens() -> frozenset[str]:
    """The screens of ``type: end`` (answered ``END``)."""
    return _menus()[1]


@functools.cache
def _menus() -> tuple[dict[str, re.Pattern[str]], frozenset[str], dict[str, re.Pattern[str]]]:
    found: dict[str, re.Pattern[str]] = {}
    final: set[str] = set()
    messages = yaml.safe_load((MENUS / "messages.yaml").read_text(encoding="utf-8"))
    for group in ("session", "error"):
        for name, text in messages.get(group, {}).items():
            found[f"{group}.{name}"] = _pattern(_english(text))
    voices = dict(found)
    for name, text in messages.get("voice", {}).items():
        voices[f"voice.{name}"] = _pattern(_english(text))
    for path in sorted(MENUS.glob("*.yaml")):
        if path.name == "messages.yaml":
            continue
        flow = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, screen in (flow.get("screens") or {}).items():
            if isinstance(screen, dict) and screen.get("prompt"):
                found[f"{path.stem}.{name}"] = _pattern(_english(screen["prompt"]))
                voices[f"{path.stem}.{name}"] = _pattern(_english(screen.get("voice")
                                                                  or screen["prompt"]))
                if screen.get("type") == "end":
                    final.add(f"{path.stem}.{name}")
    missing = [key for key in (*VOICE_PROBLEMS, *(n for step in JOURNEY for n in step))
               if key not in voices]
    if missing:
        raise RuntimeError(f"the menus no longer have {missing}: update bench/ussd_screens.py")
    return found, frozenset(final), voices


def _loose(pattern: re.Pattern[str]) -> int:
    """0 for a pattern that starts with literal text, 1 for a placeholder first, 2 for one
    with almost no literal text (it would match any screen: never guessed, only expected)."""
    literal = pattern.pattern.replace("[^\n]*?", "").replace("\\", "").strip()
    return 2 if len(literal) < 4 else int(pattern.pattern.startswith("[^"))


def identify(body: str, first: tuple[str, ...] = ()) -> str:
    """The name of the screen ``body`` shows, or "": the ``first`` names, then the problem
    and error messages, then the other screens, those that start with a placeholder last."""
    text = body[4:] if body[:4] in ("CON ", "END ") else body
    known = patterns()
    for name in (*first, *_guesses()):
        if known[name].match(text):
            return name
    return ""


@functools.cache
def _guesses() -> tuple[str, ...]:
    """The order ``identify`` tries names in after the expected ones."""
    known = patterns()
    others = sorted((k for k in known if _loose(known[k]) < 2), key=lambda k: _loose(known[k]))
    return (*PROBLEMS, *(k for k in known if k.startswith("error.")), *others)


def check(body: str, expected: tuple[str, ...]) -> str | None:
    """None if ``body`` is one of the ``expected`` screens, else the error kind to count."""
    name = identify(body, expected)
    if name in expected:
        final = name in final_screens()
        if body.startswith("END ") != final:
            return "END early" if not final else "no END"
        if name == "booking.booked" and not BOOKING_CODE.search(body):
            return "booked without a code"
        return None
    if name in PROBLEMS:
        return PROBLEMS[name]
    if name.startswith("error."):
        return "invalid answer"
    return f"wrong screen: {name}" if name else "unknown screen"


def check_voice(twiml: str, expected: tuple[str, ...]) -> str | None:
    """None if the IVR answer ``twiml`` says one of the ``expected`` screens and none of
    the problem texts (a problem is looked for first: it may be said before a prompt)."""
    said = html.unescape(re.sub(r"<[^>]*>", " ", twiml))
    known = voice_patterns()
    for name, kind in VOICE_PROBLEMS.items():
        if known[name].search(said):
            return kind
    for name in (k for k in known if k.startswith("error.")):
        if known[name].search(said):
            return "invalid answer"
    if any(known[name].search(said) for name in expected):
        return None
    return "unexpected answer"
