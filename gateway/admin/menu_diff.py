"""Differences between two sets of menu files, line by line (difflib), for the menu
editor's "compare versions", a refused stale save and the audit log."""
from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk" or "same"
    text: str


def unified(before: str, after: str, name: str, context: int = 2) -> str:
    """A unified diff of one file ("" when equal)."""
    return "".join(difflib.unified_diff(before.splitlines(keepends=True),
                                        after.splitlines(keepends=True),
                                        f"{name} (before)", f"{name} (after)", n=context))


def files_diff(before: dict[str, str], after: dict[str, str]) -> dict[str, list[DiffLine]]:
    """Per changed file, its diff as lines to show (added, removed, context)."""
    changed = {}
    for name in sorted(set(before) | set(after)):
        text = unified(before.get(name, ""), after.get(name, ""), name)
        if text:
            changed[name] = [_line(line) for line in text.splitlines()[2:]]
    return changed


def _line(line: str) -> DiffLine:
    kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
    return DiffLine(kind, line)
