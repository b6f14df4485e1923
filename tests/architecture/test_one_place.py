"""Each fact once (docs/architecture.md): one phone rule, one ``as_utc``, one cron schedule,
one default language. Walks the syntax of every file of gateway/ and workers/."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _trees() -> list[tuple[str, ast.AST]]:
    return [(str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8")))
            for top in ("gateway", "workers") for path in sorted((ROOT / top).rglob("*.py"))]


TREES = _trees()


def _where(predicate) -> list[str]:
    return [f"{name}:{node.lineno}" for name, tree in TREES for node in ast.walk(tree)
            if predicate(node)]


@pytest.mark.parametrize("function,home", [
    ("parse_phone", "gateway/text/phones.py"),
    ("as_utc", "gateway/text/times.py"),
])
def test_defined_once(function, home):
    found = _where(lambda n: isinstance(n, ast.FunctionDef) and n.name == function)
    assert [f.split(":")[0] for f in found] == [home], found


def test_phonenumbers_only_in_the_phone_rule():
    found = _where(lambda n: (isinstance(n, ast.Import) and any(
        a.name.split(".")[0] == "phonenumbers" for a in n.names)) or (
        isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "phonenumbers"))
    assert {f.split(":")[0] for f in found} == {"gateway/text/phones.py"}, found


def _naive_taken_as_utc(node: ast.AST) -> bool:
    """``x.replace(tzinfo=dt.UTC)`` (or ``timezone.utc``): as_utc written out again."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "replace"):
        return False
    return any(k.arg == "tzinfo" and isinstance(k.value, ast.Attribute)
               and k.value.attr in ("UTC", "utc") for k in node.keywords)


def test_naive_times_become_utc_only_in_as_utc():
    found = _where(_naive_taken_as_utc)
    assert {f.split(":")[0] for f in found} <= {"gateway/text/times.py"}, found


def _english_as_a_default(node: ast.AST) -> bool:
    """``x or "en"``, ``d.get(k, "en")`` or ``lang="en"`` as a parameter's default."""
    en = lambda v: isinstance(v, ast.Constant) and v.value == "en"  # noqa: E731
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return en(node.values[-1])
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "get" and len(node.args) == 2:
        return en(node.args[1])
    if isinstance(node, ast.arguments):
        return any(en(d) for d in [*node.defaults, *node.kw_defaults])
    return False


def test_the_default_language_is_default_language():
    assert _where(_english_as_a_default) == []


def test_the_schedule_is_registered_from_one_place():
    found = _where(lambda n: isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                   and n.func.attr == "register"
                   and any(k.arg == "interval" for k in n.keywords))
    assert {f.split(":")[0] for f in found} == {"workers/schedule.py"}, found
