"""Edit a menu file's prompts per language in a form while the YAML keeps the structure.

The file is composed with PyYAML (nodes know where they start and end in the text), and
each changed prompt's text is replaced in place by a double-quoted YAML string: comments,
order and every other line stay exactly as they were.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import yaml

from gateway.text.i18n import LANGUAGES


@dataclass(frozen=True)
class Prompt:
    screen: str
    lang: str
    text: str
    start: int  # character offsets of the value in the file's text
    end: int


def prompts(text: str) -> list[Prompt]:
    """Every ``screens.<id>.prompt.<lang>`` text of a menu file (empty when unparsable)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    screens = _get(root, "screens")
    found = []
    for key, screen in (screens.value if isinstance(screens, yaml.MappingNode) else []):
        prompt = _get(screen, "prompt")
        if not isinstance(prompt, yaml.MappingNode):
            continue
        for lang_node, value in prompt.value:
            if lang_node.value in LANGUAGES and isinstance(value, yaml.ScalarNode):
                found.append(Prompt(key.value, lang_node.value, value.value,
                                    value.start_mark.index, value.end_mark.index))
    return found


def by_screen(text: str) -> dict[str, dict[str, str]]:
    """{screen: {lang: prompt}} in the file's order."""
    table: dict[str, dict[str, str]] = {}
    for p in prompts(text):
        table.setdefault(p.screen, {})[p.lang] = p.text
    return table


def with_prompts(text: str, changes: dict[tuple[str, str], str]) -> str:
    """``text`` with the prompts named by (screen, lang) replaced; others untouched."""
    out, last = [], 0
    for p in prompts(text):
        new = changes.get((p.screen, p.lang))
        if new is None or new == p.text:
            continue
        quoted = json.dumps(new.replace("\r\n", "\n"), ensure_ascii=False)
        if text[p.start] in "|>" and text[p.end - 1] == "\n":  # a block scalar's line end
            quoted += "\n"
        out += [text[last:p.start], quoted]
        last = p.end
    return "".join(out) + text[last:]


def _get(node, key: str):
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if k.value == key), None)
