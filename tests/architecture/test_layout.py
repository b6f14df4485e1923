"""The tree as docs/architecture.md describes it: README's layout section names every package
and root module of gateway/ (and nothing else), and tests/ mirrors the tree."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _layout_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Layout\n", 1)[1]
    return section.split("```", 2)[1].strip("\n").splitlines()


def _named_in_readme() -> set[str]:
    """Paths in the block's first column; ``gateway/admin/ api/`` names gateway/api/ too."""
    named = set()
    for line in _layout_block():
        parent = ""
        for word in re.split(r"\s+", line.strip()):
            if not re.fullmatch(r"[\w./]+(/|\.py)", word):
                break
            if word.startswith("gateway/"):
                parent = word.rsplit("/", 2)[0] + "/" if word.endswith("/") else "gateway/"
                named.add(word)
            else:
                named.add(parent + word if parent else word)
    return named


def _in_tree() -> set[str]:
    gateway = ROOT / "gateway"
    found = {f"gateway/{p.name}" for p in gateway.glob("*.py")}
    found |= {f"gateway/{p.name}/" for p in gateway.iterdir()
              if p.is_dir() and any(p.rglob("*.py"))}
    return found | {"workers/", "tests/", "bench/", "docs/"}


def test_readme_layout_matches_the_tree():
    named, tree = _named_in_readme(), _in_tree()
    assert not tree - named, f"in the tree, missing from README's layout: {sorted(tree - named)}"
    assert not named - tree, f"in README's layout, not in the tree: {sorted(named - tree)}"


def test_no_test_file_is_loose_at_the_root_of_tests():
    loose = sorted(p.name for p in (ROOT / "tests").glob("test_*.py"))
    assert not loose, f"move these into the folder of what they test: {loose}"
