"""The SMS texts (data: ``templates.yaml`` beside this module) and :func:`render`.

Each template has a text per language, the pattern registered for it on India's DLT platform
and, once registered, its DLT template id (gateway/sms/dlt.py, docs/providers.md). A rendered
text remembers its template, so the ledger records which registered template a message is.

Dates and windows come pre-formatted (``gateway.text.i18n.format_date`` / ``format_window``) or
as ``datetime.date`` / ``(start, end)`` which are formatted here in the message's language.
"""
from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.sms import dlt
from gateway.sms.errors import TemplateError
from gateway.text import i18n
from gateway.text.encoding import is_gsm7, normalize_latin

CATALOGUE_PATH = Path(__file__).with_name("templates.yaml")
ELLIPSIS = "..."  # GSM-7, unlike "…"


@dataclass(frozen=True)
class Entry:
    """One template in one language."""

    name: str
    lang: str
    text: str
    dlt: str = ""  # the registered pattern
    dlt_template_id: str = ""

    @cached_property
    def variables(self) -> list[str]:
        """The ``{name}`` placeholders of the text, in order."""
        return [f for _, f, _, _ in string.Formatter().parse(self.text) if f is not None]

    @cached_property
    def limits(self) -> dict[str, int]:
        """Characters each variable may take: its ``{#var#}`` run in the pattern, × 30."""
        runs = dlt.parts(self.dlt)[1] if self.dlt else []
        if len(runs) != len(self.variables):
            runs = [1] * len(self.variables)
        limits: dict[str, int] = {}
        for name, run in zip(self.variables, runs, strict=True):
            limits[name] = min(limits.get(name, run * dlt.VAR_LIMIT), run * dlt.VAR_LIMIT)
        return limits


class SmsText(str):
    """A rendered SMS text that knows the template (and language) it came from."""

    template: str
    lang: str

    def __new__(cls, text: str, template: str, lang: str) -> SmsText:
        made = super().__new__(cls, text)
        made.template, made.lang = template, lang
        return made


@dataclass(frozen=True)
class Catalogue:
    """Every template by name and language, and the sample values the check renders with."""

    entries: dict[str, dict[str, Entry]]
    samples: dict[str, Any] = field(default_factory=dict)

    def entry(self, name: str, lang: str) -> Entry:
        """Template ``name`` in ``lang``, or in English when it has no such language."""
        texts = self.entries.get(name)
        if texts is None:
            raise TemplateError(f"unknown SMS template {name!r}")
        return texts.get(lang) or texts[i18n.DEFAULT_LANGUAGE]

    def render(self, template: str, lang: str, /, **vars: Any) -> SmsText:
        """The text of ``template`` in ``lang``: see the module's :func:`render`."""
        entry = self.entry(template, lang)
        try:
            text = entry.text.format(**_fitted(localise(vars, entry.lang), entry.limits))
        except KeyError as exc:
            raise TemplateError(f"template {template!r} needs variable {exc.args[0]!r}") \
                from None
        return SmsText(gsm7_if_possible(text), template, entry.lang)


class _EntryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    dlt: str = ""
    dlt_template_id: str = Field("", pattern=r"^\d*$")

    @field_validator("dlt_template_id", mode="before")
    @classmethod
    def _digits_unquoted(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class _CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    samples: dict[str, Any] = Field(default_factory=dict)
    templates: dict[str, dict[Literal[i18n.LANGUAGES], _EntryFile]]  # type: ignore[valid-type]

    @field_validator("templates")
    @classmethod
    def _english_first(cls, value: dict) -> dict:
        missing = [name for name, texts in value.items() if i18n.DEFAULT_LANGUAGE not in texts]
        if missing:
            raise ValueError(f"{missing}: every template needs {i18n.DEFAULT_LANGUAGE!r}")
        return value


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read and validate a templates file; a TemplateError names the file and the key."""
    try:
        data = _CatalogueFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise TemplateError(f"{path.name}: {where}: {err['msg']}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path.name}: cannot be read: {exc}") from None
    entries = {name: {lang: Entry(name, lang, **e.model_dump()) for lang, e in texts.items()}
               for name, texts in data.templates.items()}
    return Catalogue(entries, data.samples)


CATALOGUE = load_catalogue()


def render(template: str, lang: str, /, **vars: Any) -> SmsText:
    """The text of ``template`` in ``lang`` (English if unsupported).

    ``date`` may be a ``datetime.date`` and ``window`` a ``(start, end)`` pair of times; both
    are then formatted in ``lang``. A variable longer than its place in the registered DLT
    pattern is shortened to fit. Latin-script results are normalised to GSM-7 where a
    look-alike (NBSP, curly quote, dash) would otherwise force UCS-2.
    """
    return CATALOGUE.render(template, lang, **vars)


def dlt_fields(body: str) -> dict[str, str | None]:
    """The ledger's ``template`` and ``dlt_template_id`` for a body :func:`render` made."""
    name, lang = getattr(body, "template", None), getattr(body, "lang", None)
    if name is None or lang is None:
        return {"template": None, "dlt_template_id": None}
    return {"template": name, "dlt_template_id": CATALOGUE.entry(name, lang).dlt_template_id
            or None}


def localise(vars: dict[str, Any], lang: str) -> dict[str, Any]:
    """Format date and window values in the message's language."""
    out = dict(vars)
    if isinstance(out.get("date"), dt.date):
        out["date"] = i18n.format_date(out["date"], lang)
    if isinstance(out.get("window"), tuple):
        out["window"] = i18n.format_window(*out["window"], lang)
    return out


def _fitted(vars: dict[str, Any], limits: dict[str, int]) -> dict[str, Any]:
    """Variables cut to their DLT limits (with "..."), so the operator does not drop the SMS."""
    out = dict(vars)
    for name, limit in limits.items():
        value = out.get(name)
        if value is not None and len(str(value)) > limit:
            out[name] = str(value)[:limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return out


def gsm7_if_possible(text: str) -> str:
    """``text`` with typographic look-alikes replaced, if that makes it all GSM-7."""
    normalised = normalize_latin(text)
    return normalised if is_gsm7(normalised) else text
