"""`vaxgate menus check`: validate the menus and prove every screen fits a USSD screen.

    errors = check_menus(menu_dir, action_names)      # [] when all is well
    rows = screen_report(menu_dir)                     # per screen/language/page char counts

Structure is checked by the loader (syntax, types, keys, targets, reachability, translations,
validators, action names). Then every screen is rendered in every language, without and with
each error line it can show, with realistic sample values (a 20-character name, a
24-character center name, "Mon 23 Nov" in the screen's language, "09:00-11:00", "K7QP3M")
and realistic list items; any page longer than the limit is reported, e.g.
"booking.yaml: screens.pick_center [hi] page 1: 86 chars > 80". A confirm screen must also
show both answers on its first page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gateway.flows import FlowSet, Screen, build_screen, load_flows, parse_flows
from gateway.flows.flowset import ScreenDef, screen_path
from gateway.flows.validators import VALIDATORS
from gateway.text.i18n import LANGUAGES, format_date, format_distance
from gateway.ussd_menus.render import CUT_FIRST, NEVER_CUT, RenderedPage, render

SAMPLE_NAME = "Sita Devi Kumari Rao"  # 20 characters
SAMPLE_CENTER = "PHC Danapur Cantonment 2"  # 24 characters
SAMPLE_WINDOWS = ("09:00-11:00", "11:00-13:00", "14:00-16:00", "16:00-18:00")
SAMPLE_DAY = dt.date(2020, 11, 23)  # "Mon 23 Nov"
WHOLE_SCREEN_GROUPS = ("session",)  # messages.yaml groups shown as whole END screens


@dataclass(frozen=True)
class ScreenReport:
    """Length of one rendered page of one screen in one language (and error variant)."""

    path: str  # "booking.yaml: screens.pick_center"
    lang: str
    page: int  # 1-based, as people count pages
    chars: int  # length before any runtime cutting
    limit: int
    error_key: str | None = None
    page_count: int = 1
    screen_type: str = "end"
    fitted: bool = False  # an error line cut only the prompt's tail: options and code stay

    @property
    def ok(self) -> bool:
        """True if the page fits without cutting (and a confirm shows Yes and No together)."""
        split = self.screen_type == "confirm" and self.page_count > 1 and self.page == 1
        return (self.chars <= self.limit or self.fitted) and not split

    def problem(self) -> str:
        """The error line for a page that is not ok."""
        where = f"{self.path} [{self.lang}] page {self.page}"
        where += f" (with {self.error_key})" if self.error_key else ""
        if self.chars > self.limit:
            return f"{where}: {self.chars} chars > {self.limit}"
        return f"{where}: both answers of a confirm must fit on the first page"


def check_menus(menu_dir: str | Path, action_names: set[str]) -> list[str]:
    """Every problem with the menus in `menu_dir` as a path string; empty when they are fine."""
    flows, errors = parse_flows(menu_dir, action_names)
    if flows is None:
        return errors  # no main.yaml or messages.yaml: nothing to render
    return errors + [row.problem() for row in report_flows(flows, lenient=bool(errors))
                     if not row.ok]


def screen_report(menu_dir: str | Path) -> list[ScreenReport]:
    """Char counts of every page of every screen in every language (raises MenuError)."""
    return report_flows(load_flows(menu_dir))


def report_flows(flows: FlowSet, lenient: bool = False) -> list[ScreenReport]:
    """Render every screen, language, error variant and page of a loaded FlowSet;
    ``lenient`` (menus with structural errors) skips a screen that cannot be rendered."""
    rows: list[ScreenReport] = []
    for lang in LANGUAGES:
        vars = sample_vars(lang)
        for screen_id in sorted(flows.screens):
            try:
                rows += _screen_rows(flows, screen_id, vars)
            except Exception:  # noqa: BLE001 - its structural error is already reported
                if not lenient:
                    raise
        for key in flows.messages.keys():
            if key.partition(".")[0] in WHOLE_SCREEN_GROUPS:
                text = flows.messages.text(key, lang, vars)
                screen = Screen(key, key, text, final=True, lang=lang, variables=vars)
                rows += _page_rows(flows, screen, f"messages.yaml: {key}", None, "end")
    return rows


def _screen_rows(flows: FlowSet, screen_id: str, vars: dict[str, Any]) -> list[ScreenReport]:
    """Rows for one screen in one language: without an error, then with each possible error."""
    definition = flows.screens[screen_id]
    if not (definition.interactive or definition.type == "end"):
        return []
    items = sample_items(definition.source, vars["lang"]) if definition.source else []
    back = screen_id != flows.home
    plain = build_screen(flows, screen_id, vars, items, can_go_back=back)
    rows = _page_rows(flows, plain, screen_path(screen_id), None, definition.type)
    if not rows[0].ok:  # names are what gets shortened at runtime: fine if that is enough
        plain = build_screen(flows, screen_id, _short_names(vars), items, can_go_back=back)
        rows = _page_rows(flows, plain, screen_path(screen_id), None, definition.type)
    shown = render(plain, 0, flows.messages)
    for error_key, error_vars in _error_variants(definition):
        error = flows.messages.text(error_key, vars["lang"], {**vars, **error_vars})
        screen = build_screen(flows, screen_id, plain.variables, items, error, can_go_back=back)
        variant = _page_rows(flows, screen, screen_path(screen_id), error_key, definition.type)
        if _keeps_what_matters(render(screen, 0, flows.messages), shown, vars):
            variant[0] = replace(variant[0], fitted=True)
        rows += variant
    return rows


def _short_names(vars: dict[str, Any]) -> dict[str, Any]:
    """The sample vars with every name cut as far as the renderer cuts a name."""
    cut = "Sita..." if vars["lang"] == "en" else "Sita…"
    return {**vars, **{name: cut for name in CUT_FIRST if name in vars}}


def _keeps_what_matters(with_error: RenderedPage, plain: RenderedPage,
                        vars: dict[str, Any]) -> bool:
    """An error line may cost the prompt its tail, never an option or the booking code."""
    codes = [str(vars[name]) for name in NEVER_CUT if str(vars.get(name, "")) in plain.text]
    return (with_error.option_keys_on_page == plain.option_keys_on_page
            and all(code in with_error.text for code in codes))


def _error_variants(definition: ScreenDef) -> list[tuple[str, dict[str, Any]]]:
    """(error key, error vars) pairs a screen can show above its prompt."""
    if definition.type == "input" and definition.validate:
        validator = VALIDATORS[definition.validate]
        return [(key, validator.error_vars(definition.validate_args)) for key in validator.errors]
    if definition.interactive:
        return [("error.invalid_choice", {})]
    return []


def _page_rows(
    flows: FlowSet, screen: Screen, path: str, error_key: str | None, screen_type: str
) -> list[ScreenReport]:
    """One row per rendered page of a screen."""
    first = render(screen, 0, flows.messages)
    pages = [first] + [render(screen, n, flows.messages) for n in range(1, first.page_count)]
    return [
        ScreenReport(path, screen.lang, p.page + 1, p.needed, p.limit, error_key,
                     p.page_count, screen_type)
        for p in pages
    ]


def sample_vars(lang: str) -> dict[str, Any]:
    """Realistic, long-ish values for every var the shipped menus use."""
    return {
        "phone": "+919812345678", "lang": lang, "today": "2020-11-20", "min_age": 18,
        "max_beneficiaries": 4, "helpline": "1075", "name": SAMPLE_NAME, "birth_year": "1948",
        "gender": "F", "id_type": "aadhaar", "id_last4": "4821", "pincode": "800001",
        "beneficiary_id": "1042", "beneficiary_name": SAMPLE_NAME, "beneficiary_count": 4,
        "date": SAMPLE_DAY.isoformat(), "date_label": format_date(SAMPLE_DAY, lang),
        "center_id": "17", "center_name": SAMPLE_CENTER, "search_scope": "district",
        "near_km": 50,
        "slot_id": "311", "window_label": SAMPLE_WINDOWS[0], "reference": "K7QP3M",
        "appointment_id": "88", "reschedule_id": "",
        **HEALTH_WORKER_SAMPLES,
    }


HEALTH_WORKER_SAMPLES = {  # health_worker.yaml
    "hw_name": SAMPLE_NAME, "hw_center_name": SAMPLE_CENTER, "pin_tries_left": 4,
    "locked_until": "18:45", "benef_phone": "+919812345678", "otp_tries_left": 2,
    "retry_after": 30, "appointment_ref": "K7QP3M", "count_expected": 120,
    "count_vaccinated": 245, "count_no_show": 12,
}


def sample_items(source: str, lang: str) -> list[dict[str, Any]]:
    """Realistic list items (as kept in the session state) for a list screen's source."""
    days = [SAMPLE_DAY + dt.timedelta(days=n) for n in range(7)]
    labels = {
        "list_beneficiaries": [f"{SAMPLE_NAME} {1948 + n}" for n in range(4)],
        "list_dates": [format_date(day, lang) for day in days],
        "list_centers": [f"{SAMPLE_CENTER} {format_distance(38, lang)}"] * 5,
        "list_far_centers": [f"{SAMPLE_CENTER} {format_distance(238, lang)}"] * 5,
        "list_windows": [f"{window} (12)" for window in SAMPLE_WINDOWS],
        "list_appointments": [f"K7QP3M Sita {format_date(day, lang)}" for day in days[:4]],
    }.get(source, [f"Sample item {n:012d}" for n in range(5)])
    return [{"value": str(n), "label": label, "vars": {}} for n, label in enumerate(labels, 1)]


def voice_gaps(flows: FlowSet, tts_languages: set[str] | frozenset[str],
               audio_folder: str | Path) -> list[str]:
    """Every voice prompt that would have neither a text-to-speech voice nor a recording
    (``<audio_folder>/<lang>/<key>.mp3`` or the screen's ``audio:``), in every language.
    Such prompts are spoken in English at runtime; list items from the database are not
    counted (they cannot be recorded in advance)."""
    from gateway.ivr.recordings import voice_templates
    from gateway.ivr.voice import AudioLibrary

    library = AudioLibrary(Path(audio_folder), version=flows.version)
    gaps = []
    for lang in (lang for lang in LANGUAGES if lang not in tts_languages):
        templates = voice_templates(flows, lang)
        for key, explicit, path in _voice_keys(flows, lang):
            if not (library.has(key, lang, explicit)
                    or library.has_parts(key, lang, templates.get(key, ""))):
                gaps.append(f"{path} [{lang}] voice: no TTS voice and no recording "
                            f"({lang}/{key}.mp3)")
    return gaps


def _voice_keys(flows: FlowSet, lang: str) -> list[tuple[str, str, str]]:
    """(recording key, explicit audio, error path) of every fixed spoken text."""
    keys = []
    for screen_id, definition in sorted(flows.screens.items()):
        if not (definition.interactive or definition.type == "end"):
            continue
        path = screen_path(screen_id)
        keys.append((screen_id, definition.audio.get(lang, ""), f"{path}.prompt"))
        if definition.type == "menu":
            keys += [(f"{screen_id}.option{n}", "", f"{path}.options[{n}]")
                     for n in range(1, len(definition.options) + 1)]
    groups = ("voice", "error", "confirm")
    keys += [(key, "", f"messages.yaml: {key}") for key in flows.messages.keys()
             if key.partition(".")[0] in groups]
    return keys


def voice_report(flows: FlowSet, ivr: Any, audio_folder: str | Path
                 ) -> tuple[list[str], list[str]]:
    """(errors, warnings) for the voice channel, per provider: a voice of another language
    is an error; a prompt with neither a voice nor a recording is an error for a provider in
    ``ivr.providers`` (it would be spoken in English) and a warning for the others; voice
    text with brackets, slashes or codes is an error (``spoken_form_problems``)."""
    from gateway.ivr.voices import PROVIDERS, tts_languages, voice_problems

    errors, warnings = voice_problems(ivr)
    for provider in PROVIDERS:
        gaps = [f"[{provider}] {gap}" for gap in
                voice_gaps(flows, tts_languages(ivr, provider), audio_folder)]
        (errors if provider in ivr.providers else warnings).extend(gaps)
    return errors + spoken_form_problems(flows), warnings


# a health worker's phone gets the citizen journey on a call (healthworkers/ussd_actions.py)
VOICELESS_JOURNEYS = ("health_worker",)
UNSPEAKABLE = re.compile(r"[()\[\]/]|\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6}\b")


def spoken_form_problems(flows: FlowSet) -> list[str]:
    """Fixed voice texts a voice would read badly: brackets, slashes or a literal code (a
    screen's prompt is spoken when it has no ``voice:``; variables are spoken at runtime)."""
    problems = []
    for lang in LANGUAGES:
        for path, text in _spoken_texts(flows, lang):
            found = UNSPEAKABLE.search(re.sub(r"\{\w+\}", "", text))
            if found:
                problems.append(f"{path} [{lang}] voice: '{found.group(0)}' cannot be spoken "
                                "(give the screen a voice: wording)")
    return problems


def _spoken_texts(flows: FlowSet, lang: str) -> list[tuple[str, str]]:
    """(error path, text) of every fixed text the IVR speaks in ``lang``."""
    from gateway.flows.catalog import pick

    texts = []
    for screen_id, definition in sorted(flows.screens.items()):
        if not (definition.interactive or definition.type == "end") \
                or screen_id.partition(".")[0] in VOICELESS_JOURNEYS:
            continue
        path = screen_path(screen_id)
        source = definition.voice or definition.prompt
        if source:
            texts.append((f"{path}.{'voice' if definition.voice else 'prompt'}",
                          pick(source, lang)))
        for n, option in enumerate(definition.options, start=1):
            texts.append((f"{path}.options[{n}]", pick(option.voice or option.label, lang)))
    texts += [(f"messages.yaml: {key}", flows.messages.template(key, lang))
              for key in flows.messages.keys() if key.partition(".")[0] in ("voice", "confirm")]
    return texts
