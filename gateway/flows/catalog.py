"""Translated text: the catalog of every prompt and shared message, and {var} templates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway.text.i18n import DEFAULT_LANGUAGE, LANGUAGES

PLACEHOLDER = re.compile(r"\{(\w+)\}")

Translations = Mapping[str, str]  # lang -> template


def fill(template: str, vars: Mapping[str, Any]) -> str:
    """Substitute {name} placeholders; a missing or None var renders as empty text."""

    def value(match: re.Match[str]) -> str:
        found = vars.get(match.group(1))
        return "" if found is None else str(found)

    return PLACEHOLDER.sub(value, template)


def placeholders(template: str) -> list[str]:
    """Names of the {vars} a template uses, in order."""
    return PLACEHOLDER.findall(template)


def pick(translations: Translations, lang: str) -> str:
    """The template for `lang`, falling back to English, then to any language."""
    for candidate in (lang, DEFAULT_LANGUAGE, *LANGUAGES):
        if translations.get(candidate):
            return translations[candidate]
    return next(iter(translations.values()), "")


class Catalog:
    """Every translatable text by key: screen prompts ("booking.pick_center") and the shared
    messages of messages.yaml ("nav.more", "error.invalid_choice", "session.resume", ...)."""

    def __init__(self, entries: Mapping[str, Translations]) -> None:
        self._entries = dict(entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def keys(self) -> list[str]:
        """All keys, sorted."""
        return sorted(self._entries)

    def template(self, key: str, lang: str) -> str:
        """The raw template for key in lang ("" for an unknown key)."""
        return pick(self._entries.get(key, {}), lang)

    def text(self, key: str, lang: str, vars: Mapping[str, Any] | None = None) -> str:
        """The template for key in lang with vars substituted."""
        return fill(self.template(key, lang), vars or {})
