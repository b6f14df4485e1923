"""Load a menu directory (one YAML file per journey + messages.yaml) into a validated FlowSet.

Every problem is collected, not just the first, as a path string such as
"registration.yaml: screens.pick_center.next: 'confirm_x' does not exist".
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from gateway.flows.catalog import Catalog, Translations
from gateway.flows.errors import MenuError
from gateway.flows.flowset import ANY_OUTCOME, SCREEN_TYPES, FlowSet, OptionDef, ScreenDef
from gateway.flows.validators import VALIDATORS
from gateway.text.i18n import LANGUAGES

MAIN = "main"
MESSAGES = "messages"

# type -> (required keys, optional keys), besides "type" itself
VOICE_KEYS = {"voice", "audio"}  # optional on every screen with a prompt (IVR wording/recording)
SCREEN_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "menu": ({"prompt", "options"}, VOICE_KEYS),
    "input": ({"prompt", "validate", "save", "next"}, VOICE_KEYS | {"voice_record"}),
    "list": ({"source", "prompt", "save", "next", "empty"}, VOICE_KEYS),
    "confirm": ({"prompt", "yes", "no"}, VOICE_KEYS),
    "action": ({"call", "next"}, {"clear_history"}),
    "end": ({"prompt"}, VOICE_KEYS),
}
OPTION_KEYS = ({"label", "next"}, {"set", "voice"})

# Shared messages the engine, the renderer and the channel adapters rely on.
REQUIRED_MESSAGES = (
    "nav.more",
    "nav.back",
    "nav.home",
    "confirm.yes",
    "confirm.no",
    "error.invalid_choice",
    "session.too_many_invalid",
    "session.error_end",
    "session.resume",
    "session.try_again",
    *sorted({key for validator in VALIDATORS.values() for key in validator.errors}),
)

_VAR_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class _YamlLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false, so `yes:`/`no:` keys and `no` values stay strings."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _Errors(list[str]):
    """Collects path-prefixed error strings."""

    def add(self, path: str, message: str) -> None:
        """Record one problem at `path`."""
        self.append(f"{path}: {message}")


def load_flows(menu_dir: str | Path, action_names: set[str] | None = None) -> FlowSet:
    """Load and validate every journey in `menu_dir`; raise MenuError listing all problems.

    With `action_names`, also report `call`/`source` names the service does not provide.
    """
    flows, errors = parse_flows(menu_dir, action_names)
    if errors or flows is None:
        raise MenuError(errors)
    return flows


def parse_flows(
    menu_dir: str | Path, action_names: set[str] | None = None
) -> tuple[FlowSet | None, list[str]]:
    """Like load_flows but return (flowset or None, errors) instead of raising."""
    directory = Path(menu_dir)
    errors = _Errors()
    documents = _read_documents(directory, errors)
    if MAIN not in documents:
        errors.add(f"{MAIN}.yaml", "missing (the session entry point)")
    if MESSAGES not in documents:
        errors.add(f"{MESSAGES}.yaml", "missing (shared texts)")
    if errors:
        return None, list(errors)
    entries = _parse_messages(documents.pop(MESSAGES), errors)
    screens: dict[str, ScreenDef] = {}
    for journey, document in documents.items():
        screens.update(_parse_journey(journey, document, errors))
    start, home = _entry_points(documents[MAIN], screens, errors)
    journey_homes = _journey_homes(documents, screens, errors)
    _check_targets(screens, errors)
    _check_reachable(screens, [start, home], errors)
    _check_actions(screens, action_names, errors)
    _check_message_keys(entries, set(documents), errors)
    entries.update({sid: s.prompt for sid, s in screens.items() if s.prompt})
    flows = FlowSet(screens, start, home, Catalog(entries), _version(directory),
                    journey_homes=journey_homes)
    return flows, list(errors)


def _read_documents(directory: Path, errors: _Errors) -> dict[str, Any]:
    """Parse every *.yaml file of the directory, keyed by file stem."""
    documents: dict[str, Any] = {}
    if not directory.is_dir():
        errors.add(str(directory), "not a directory")
        return documents
    for path in sorted(directory.glob("*.yaml")):
        try:
            documents[path.stem] = yaml.load(path.read_text(encoding="utf-8"), Loader=_YamlLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            errors.add(path.name, f"invalid YAML{where}: {getattr(exc, 'problem', exc)}")
        except UnicodeDecodeError as exc:
            errors.add(path.name, f"not UTF-8 text (byte {exc.start}: {exc.reason})")
        except RecursionError:
            errors.add(path.name, "invalid YAML: nested too deeply")
    return documents


def _version(directory: Path) -> str:
    """A short hash of every YAML file's name and content."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _translations(value: Any, path: str, errors: _Errors, plain_ok: bool) -> Translations:
    """Validate {en, hi, bn} text (or one plain string when allowed) and return lang -> text."""
    if isinstance(value, str) and plain_ok:
        return {lang: value for lang in LANGUAGES}
    if not isinstance(value, dict):
        errors.add(path, "must map each of " + ", ".join(LANGUAGES) + " to a text")
        return {}
    for lang in LANGUAGES:
        if not isinstance(value.get(lang), str) or not value[lang].strip():
            errors.add(path, f"missing translation '{lang}'")
    for lang in value:
        if lang not in LANGUAGES:
            errors.add(path, f"unknown language '{lang}'")
    return {lang: str(text) for lang, text in value.items() if lang in LANGUAGES}


def _parse_messages(document: Any, errors: _Errors) -> dict[str, Translations]:
    """messages.yaml: groups of named texts -> {"group.name": translations}."""
    entries: dict[str, Translations] = {}
    if not isinstance(document, dict):
        errors.add(f"{MESSAGES}.yaml", "must be a mapping of groups")
        return entries
    for group, texts in document.items():
        if not isinstance(texts, dict):
            errors.add(f"{MESSAGES}.yaml: {group}", "must be a mapping of named texts")
            continue
        for name, value in texts.items():
            key = f"{group}.{name}"
            entries[key] = _translations(value, f"{MESSAGES}.yaml: {key}", errors, plain_ok=False)
    return entries


def _check_keys(
    mapping: dict[str, Any], allowed: tuple[set[str], set[str]], path: str, errors: _Errors
) -> None:
    """Report missing required keys and unknown keys."""
    required, optional = allowed
    for key in sorted(required - set(mapping)):
        errors.add(path, f"missing key '{key}'")
    for key in sorted(set(mapping) - required - optional - {"type"}, key=str):
        errors.add(path, f"unknown key '{key}'")


def _parse_journey(journey: str, document: Any, errors: _Errors) -> dict[str, ScreenDef]:
    """Parse one journey file into screens keyed by full id."""
    file = f"{journey}.yaml"
    allowed = {"screens", "start", "home"} if journey == MAIN else {"screens", "home"}
    if not isinstance(document, dict) or not isinstance(document.get("screens"), dict):
        errors.add(file, "must have a 'screens' mapping")
        return {}
    for key in sorted(set(document) - allowed, key=str):  # YAML keys need not be text
        errors.add(file, f"unknown key '{key}'")
    screens = {}
    for name, raw in document["screens"].items():
        path = f"{file}: screens.{name}"
        if not isinstance(raw, dict):
            errors.add(path, "must be a mapping")
        elif raw.get("type") not in SCREEN_TYPES:
            errors.add(f"{path}.type", f"unknown type '{raw.get('type')}'")
        else:
            _check_keys(raw, SCREEN_KEYS[raw["type"]], path, errors)
            screens[f"{journey}.{name}"] = _parse_screen(journey, name, raw, errors)
    return screens


def _target(journey: str, value: Any, path: str, errors: _Errors) -> str | None:
    """Resolve a screen reference to a full id ("pick_center" -> "booking.pick_center")."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        errors.add(path, "must be a screen id")
        return None
    return value if "." in value else f"{journey}.{value}"


def _parse_screen(journey: str, name: str, raw: dict[str, Any], errors: _Errors) -> ScreenDef:
    """Build a ScreenDef from its YAML mapping (keys already checked)."""
    path = f"{journey}.yaml: screens.{name}"
    kind = raw["type"]
    prompt = None
    if "prompt" in raw:
        prompt = _translations(raw["prompt"], f"{path}.prompt", errors, plain_ok=False)
    validate, validate_args = _parse_validate(raw.get("validate"), f"{path}.validate", errors)
    if not isinstance(raw.get("voice_record", False), bool):
        errors.add(f"{path}.voice_record", "must be true or false")
    next_value = raw.get("next")
    routes = _parse_routes(journey, next_value, f"{path}.next", errors) if kind == "action" else {}
    return ScreenDef(
        id=f"{journey}.{name}",
        type=kind,
        prompt=prompt,
        options=tuple(_parse_options(journey, raw.get("options"), path, errors)),
        validate=validate,
        validate_args=validate_args,
        save=_var_name(raw.get("save"), f"{path}.save", errors),
        next=None if kind == "action" else _target(journey, next_value, f"{path}.next", errors),
        routes=routes,
        source=_action_name(raw.get("source"), f"{path}.source", errors),
        call=_action_name(raw.get("call"), f"{path}.call", errors),
        empty=_target(journey, raw.get("empty"), f"{path}.empty", errors),
        yes=_target(journey, raw.get("yes"), f"{path}.yes", errors),
        no=_target(journey, raw.get("no"), f"{path}.no", errors),
        clear_history=bool(raw.get("clear_history", False)),
        voice=_optional_translations(raw.get("voice"), f"{path}.voice", errors),
        audio=_parse_audio(raw.get("audio"), f"{path}.audio", errors),
        voice_record=raw.get("voice_record") is True,
    )


def _action_name(value: Any, path: str, errors: _Errors) -> str | None:
    """`call:`/`source:`: the name of an action (a string), or None."""
    if value is None or isinstance(value, str):
        return value
    errors.add(path, "must be the name of an action")
    return None


def _optional_translations(value: Any, path: str, errors: _Errors) -> Translations | None:
    """An optional {en, hi, bn} text (or one plain string), e.g. a voice-only wording."""
    if value is None:
        return None
    return _translations(value, path, errors, plain_ok=True)


def _parse_audio(value: Any, path: str, errors: _Errors) -> dict[str, str]:
    """`audio: {bn: file.mp3}`: recorded prompts by language (file under the audio folder or
    an http(s) URL)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
        errors.add(path, "must map languages to audio file names or URLs")
        return {}
    for lang in value:
        if lang not in LANGUAGES:
            errors.add(path, f"unknown language '{lang}'")
    return {lang: file for lang, file in value.items() if lang in LANGUAGES}


def _var_name(value: Any, path: str, errors: _Errors) -> str | None:
    """Check a var name (lowercase identifier)."""
    if value is not None and not (isinstance(value, str) and _VAR_NAME.match(value)):
        errors.add(path, f"'{value}' is not a var name (lowercase letters, digits, _)")
        return None
    return value


def _parse_routes(journey: str, value: Any, path: str, errors: _Errors) -> dict[str, str]:
    """An action's `next`: one screen for every outcome, or {outcome: screen}."""
    if isinstance(value, dict):
        routes = {}
        for outcome, target in value.items():
            resolved = _target(journey, target, f"{path}.{outcome}", errors)
            if resolved:
                routes[str(outcome)] = resolved
        return routes
    resolved = _target(journey, value, path, errors)
    return {ANY_OUTCOME: resolved} if resolved else {}


def _parse_validate(value: Any, path: str, errors: _Errors) -> tuple[str | None, dict[str, Any]]:
    """`validate: name` or `validate: {digits: {length: 4}}` -> (validator name, args)."""
    if value is None:
        return None, {}
    if isinstance(value, dict) and len(value) == 1:
        name, args = next(iter(value.items()))
        args = args or {}
    else:
        name, args = value, {}
    if not isinstance(name, str) or name not in VALIDATORS:
        errors.add(path, f"unknown validator '{name}' (known: {', '.join(sorted(VALIDATORS))})")
        return None, {}
    if not isinstance(args, dict):
        errors.add(path, "arguments must be a mapping")
        return None, {}
    for problem in VALIDATORS[name].arg_errors(args):
        errors.add(path, problem)
    return name, args


def _parse_options(journey: str, value: Any, path: str, errors: _Errors) -> list[OptionDef]:
    """A menu's options; paths number them from 1, as the caller sees them."""
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        errors.add(f"{path}.options", "must be a non-empty list")
        return []
    options = []
    for number, raw in enumerate(value, start=1):
        option_path = f"{path}.options[{number}]"
        if not isinstance(raw, dict):
            errors.add(option_path, "must be a mapping with 'label' and 'next'")
            continue
        _check_keys(raw, OPTION_KEYS, option_path, errors)
        label = _translations(raw.get("label"), f"{option_path}.label", errors, plain_ok=True)
        target = _target(journey, raw.get("next"), f"{option_path}.next", errors)
        sets = raw.get("set") or {}
        if not isinstance(sets, dict):
            errors.add(f"{option_path}.set", "must map var names to values")
            sets = {}
        for var in sets:
            _var_name(var, f"{option_path}.set", errors)
        voice = _optional_translations(raw.get("voice"), f"{option_path}.voice", errors)
        options.append(OptionDef(label, target or "", {k: str(v) for k, v in sets.items()},
                                 voice))
    return options


def _entry_points(document: Any, screens: dict[str, ScreenDef], errors: _Errors) -> tuple[str, str]:
    """main.yaml's `start` (session entry) and `home` (main menu, a menu screen)."""
    found = []
    for key in ("start", "home"):
        target = _target(MAIN, document.get(key) if isinstance(document, dict) else None,
                         f"{MAIN}.yaml: {key}", errors)
        if target is None:
            errors.add(f"{MAIN}.yaml: {key}", "missing")
        elif target not in screens:
            errors.add(f"{MAIN}.yaml: {key}", f"'{document[key]}' does not exist")
        found.append(target or "")
    if found[1] in screens and screens[found[1]].type != "menu":
        errors.add(f"{MAIN}.yaml: home", "must be a menu screen")
    return found[0], found[1]


def _journey_homes(documents: dict[str, Any], screens: dict[str, ScreenDef],
                   errors: _Errors) -> frozenset[str]:
    """The `home:` of each journey file other than main.yaml: a menu screen of that file."""
    found = set()
    for journey, document in documents.items():
        if journey == MAIN or not isinstance(document, dict) or "home" not in document:
            continue
        path = f"{journey}.yaml: home"
        target = _target(journey, document["home"], path, errors)
        if target is None:
            continue
        if target not in screens or not target.startswith(f"{journey}."):
            errors.add(path, f"'{document['home']}' is not a screen of {journey}.yaml")
        elif screens[target].type != "menu":
            errors.add(path, "must be a menu screen")
        else:
            found.add(target)
    return frozenset(found)


def _check_targets(screens: dict[str, ScreenDef], errors: _Errors) -> None:
    """Every next/yes/no/empty/route must name an existing screen."""
    for screen in screens.values():
        journey, _, name = screen.id.partition(".")
        path = f"{journey}.yaml: screens.{name}"
        labelled = [(f"options[{n}].next", o.next) for n, o in enumerate(screen.options, 1)]
        labelled += [
            ("next" if outcome == ANY_OUTCOME else f"next.{outcome}", target)
            for outcome, target in screen.routes.items()
        ]
        labelled += [(key, getattr(screen, key)) for key in ("next", "empty", "yes", "no")]
        for key, target in labelled:
            if target and target not in screens:
                shown = target.removeprefix(f"{journey}.")
                errors.add(f"{path}.{key}", f"'{shown}' does not exist")


def _check_reachable(screens: dict[str, ScreenDef], roots: list[str], errors: _Errors) -> None:
    """Report screens no path from main.start or main.home leads to."""
    seen: set[str] = set()
    todo = [root for root in roots if root in screens]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(t for t in screens[current].targets() if t in screens)
    for screen_id in sorted(set(screens) - seen):
        journey, _, name = screen_id.partition(".")
        errors.add(f"{journey}.yaml: screens.{name}", "unreachable")


def _check_actions(
    screens: dict[str, ScreenDef], action_names: set[str] | None, errors: _Errors
) -> None:
    """`call` and `source` must name actions the service object provides."""
    if action_names is None:
        return
    for screen in screens.values():
        journey, _, name = screen.id.partition(".")
        for key in ("call", "source"):
            action = getattr(screen, key)
            if action is not None and action not in action_names:
                errors.add(f"{journey}.yaml: screens.{name}.{key}", f"unknown action '{action}'")


def _check_message_keys(
    entries: dict[str, Translations], journeys: set[str], errors: _Errors
) -> None:
    """messages.yaml must define the shared texts and not reuse a journey name as a group."""
    for key in REQUIRED_MESSAGES:
        if key not in entries:
            errors.add(f"{MESSAGES}.yaml: {key}", "missing")
    for group in sorted({key.partition(".")[0] for key in entries} & journeys):
        errors.add(f"{MESSAGES}.yaml: {group}", "group name clashes with a journey file")
