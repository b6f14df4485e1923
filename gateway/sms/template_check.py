"""``vaxgate sms templates check``: every SMS template, in every language, against its DLT
registration.

Each entry of templates.yaml is rendered with the file's sample values and checked as an
operator would: the text has a ``{#var#}`` run where the registered pattern has one, the
same fixed words, and each variable fits its run (30 characters per ``{#var#}``). Its length
and segments are reported. A missing ``dlt_template_id`` is an error once DLT applies to the
deployment (gateway/sms/dlt.py) and a warning in the sandbox.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from gateway.config import SmsSettings
from gateway.sms import dlt
from gateway.sms.errors import TemplateError
from gateway.sms.templates import Catalogue, Entry, localise
from gateway.text.encoding import sms_segments

DLT_ID_DIGITS = 19


@dataclass
class Checked:
    """One template in one language: what it renders to, and what is wrong with it."""

    template: str
    lang: str
    dlt_template_id: str
    text: str = ""
    encoding: str = ""
    length: int = 0
    segments: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of ``--json``."""
        return dict(self.__dict__)


def check_catalogue(catalogue: Catalogue, sms: SmsSettings) -> list[Checked]:
    """Check every entry; missing DLT ids are errors when DLT applies to ``sms``."""
    strict = dlt.is_enforced(sms) and bool(sms.dlt.required_prefixes)
    return [check_entry(catalogue, entry, strict)
            for texts in catalogue.entries.values() for entry in texts.values()]


def check_entry(catalogue: Catalogue, entry: Entry, strict: bool) -> Checked:
    """Render ``entry`` with the samples and compare it with its registered pattern."""
    checked = Checked(entry.name, entry.lang, entry.dlt_template_id)
    shape = _shape(entry) if entry.dlt else []
    checked.errors += shape
    _registration(checked, entry, strict)
    missing = [v for v in entry.variables if v not in catalogue.samples]
    if missing:
        checked.errors.append(f"no sample value for {missing}: add it under samples:")
        return checked
    samples = {k: tuple(v) if isinstance(v, list) else v for k, v in catalogue.samples.items()}
    try:
        text = catalogue.render(entry.name, entry.lang, **samples)
    except (TemplateError, ValueError, IndexError) as exc:
        checked.errors.append(f"cannot be rendered: {exc}")
        return checked
    checked.text, checked.length = str(text), len(text)
    checked.encoding, checked.segments = sms_segments(text)
    if entry.dlt and not shape and not dlt.matches(entry.dlt, text):
        checked.errors.append("the rendered sample does not match the registered pattern")
    checked.warnings += _long_samples(entry, localise(samples, entry.lang))
    return checked


def _registration(checked: Checked, entry: Entry, strict: bool) -> None:
    """A registered pattern and template id: errors once DLT applies, else warnings."""
    problems = checked.errors if strict else checked.warnings
    if not entry.dlt:
        problems.append("no registered DLT pattern (dlt:)")
    if not entry.dlt_template_id:
        problems.append("no dlt_template_id: an SMS to a DLT number is refused once DLT applies")
    elif len(entry.dlt_template_id) != DLT_ID_DIGITS:
        checked.warnings.append(f"dlt_template_id has {len(entry.dlt_template_id)} digits; "
                                f"DLT template ids have {DLT_ID_DIGITS}")


def _shape(entry: Entry) -> list[str]:
    """Differences between the text and its pattern: variable places and fixed words."""
    fixed, runs = dlt.parts(entry.dlt)
    literals = [literal for literal, *_ in string.Formatter().parse(entry.text)]
    if len(literals) == len(entry.variables):  # the text ends with a variable
        literals.append("")
    if len(runs) != len(entry.variables):
        return [f"the pattern has {len(runs)} variable place(s) ({dlt.VAR} runs), the text "
                f"{len(entry.variables)}: {entry.variables}"]
    return [f"fixed text differs from the pattern: {text!r} is registered as {registered!r}"
            for text, registered in zip(literals, fixed, strict=True) if text != registered]


def _long_samples(entry: Entry, samples: dict[str, Any]) -> list[str]:
    """Samples longer than their place in the pattern (such values are shortened to fit)."""
    limits = entry.limits
    return [f"sample {{{name}}} has {len(str(samples[name]))} characters; values over "
            f"{limit} are shortened to fit the pattern"
            for name, limit in limits.items() if len(str(samples[name])) > limit]
