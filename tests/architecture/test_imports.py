"""The import rule of docs/architecture.md, walked over every file of gateway/ and workers/:
no import cycle between files, no import that points up a layer, and a pure engine."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Bottom to top. A module may import its own layer and the layers below, never above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("gateway.config", "gateway.text", "gateway.infra")),
    ("storage and engine", ("gateway.storage", "gateway.flows")),
    ("domain", ("gateway.registry", "gateway.sms", "gateway.geo")),
    ("sessions", ("gateway.sessions",)),
    ("features", ("gateway.reminders", "gateway.healthworkers", "gateway.upstream",
                  "gateway.imports")),
    ("web plumbing", ("gateway.web",)),
    ("adapters", ("gateway.ussd_menus", "gateway.ivr", "gateway.admin", "gateway.api",
                  "gateway.simulator")),
    ("assembly", ("gateway", "gateway.wiring", "gateway.cli", "workers")),
]
# A lower package's HTTP modules (a provider's webhooks beside its transport, a feature's
# JSON routes beside its logic) are adapters wherever they live.
ADAPTER_MODULES = ("webhooks", "api")
# Alembic runs env.py as a script; it imports gateway.wiring to see every table.
SCRIPTS = ("gateway.storage.migrations",)
ENGINE_MAY_NOT_IMPORT = ("flask", "sqlalchemy", "redis", "requests", "rq", "werkzeug")


def module_files() -> dict[str, Path]:
    """Every module of gateway/ and workers/ by dotted name (packages by their name)."""
    found = {}
    for top in ("gateway", "workers"):
        for path in sorted((ROOT / top).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return {name: path for name, path in found.items() if not name.startswith(SCRIPTS)}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports anywhere in it (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names}
            found.update(submodules)
            # `from gateway import create_app` imports the top; `from gateway import text` not
            if node.module != "gateway" or not all(_is_package_or_module(name, modules)
                                                   for name in submodules):
                found.add(node.module)
        elif isinstance(node, ast.ImportFrom):
            base = _relative_base(path, node.level)
            target = f"{base}.{node.module}" if node.module else base
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name in modules}


def _is_package_or_module(name: str, modules: dict[str, Path]) -> bool:
    return name in modules or any(module.startswith(name + ".") for module in modules)


def _relative_base(path: Path, level: int) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:len(parts) - level])


def graph() -> dict[str, set[str]]:
    """module -> the project modules it imports."""
    modules = module_files()
    return {name: imports_of(path, modules) - {name} for name, path in modules.items()}


def layer_of(module: str) -> int:
    """The index in LAYERS of ``module`` (its longest matching package prefix)."""
    if module.rsplit(".", 1)[-1] in ADAPTER_MODULES:
        return _index("adapters")
    best, index = "", None
    for number, (_, packages) in enumerate(LAYERS):
        for package in packages:
            if (module == package or module.startswith(package + ".")) and \
                    len(package) > len(best):
                best, index = package, number
    assert index is not None, f"{module} is in no layer: add its package to LAYERS"
    return index


def _index(layer: str) -> int:
    return [name for name, _ in LAYERS].index(layer)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def _package_imports(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """Edges without a package's own ``__init__`` (importing ``gateway.x.y`` runs it)."""
    return {source: {t for t in targets if not source.startswith(t + ".")}
            for source, targets in edges.items()}


def test_no_import_cycle_between_files():
    found = cycles(_package_imports(graph()))
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_import_points_up_a_layer():
    names = [name for name, _ in LAYERS]
    upward = [f"{source} ({names[layer_of(source)]}) imports {target} "
              f"({names[layer_of(target)]})"
              for source, targets in sorted(graph().items()) for target in sorted(targets)
              if layer_of(target) > layer_of(source)]
    assert not upward, "imports against docs/architecture.md:\n" + "\n".join(upward)


def test_the_engine_imports_no_framework_or_store():
    found = []
    for path in sorted((ROOT / "gateway" / "flows").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in
                      ENGINE_MAY_NOT_IMPORT]
    assert not found


def test_at_most_four_modules_at_the_root_of_gateway():
    loose = sorted(p.name for p in (ROOT / "gateway").glob("*.py"))
    assert len(loose) <= 4, loose


@pytest.mark.parametrize("edges,expected", [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_cycle_finder_finds_cycles(edges, expected):
    assert cycles(edges) == expected


def test_layer_rule_sees_an_upward_import():
    assert layer_of("gateway.storage.models") < layer_of("gateway.reminders.models")
    assert layer_of("gateway.sms.webhooks") == _index("adapters")


def test_a_name_from_the_top_package_is_an_upward_import(tmp_path):
    modules = module_files()
    low = tmp_path / "low.py"
    low.write_text("from gateway import text\n", encoding="utf-8")
    assert "gateway" not in imports_of(low, modules)
    low.write_text("from gateway import create_app\n", encoding="utf-8")
    assert "gateway" in imports_of(low, modules)
    assert layer_of("gateway") > layer_of("gateway.storage.models")
