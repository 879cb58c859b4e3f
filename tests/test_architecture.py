"""The layout's rules, checked on every run: no import circle, layers that point one way, web3 in one room.

The import graph is read from the source with :mod:`ast` (every ``import`` anywhere in a module:
top level, inside functions and under ``TYPE_CHECKING`` alike, since a circle hidden in a function
is still a circle). Written here rather than with import-linter because the three rules are a few
lines each and need no configuration language; the graph builder is tested on a made-up package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ledger", "api")

# Each layer may import its own and the layers after it, never one before it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("interfaces", ("api", "ledger.cli", "ledger.client")),
    ("composition", ("ledger.context",)),
    ("capabilities", ("ledger.timestamps", "ledger.registry", "ledger.market", "ledger.relay", "ledger.audit",
                      "ledger.documents", "ledger.sealing")),
    ("chain", ("ledger.chain",)),
    ("foundation", ("ledger.errors", "ledger.settings", "ledger.encoding", "ledger.messages", "ledger.files",
                    "ledger")),
)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (``from a import b`` names module ``a.b`` when it exists)."""
    files = {module_name(root, p): p for pkg in packages for p in (root / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    origin = ".".join(base + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                subs = [f"{origin}.{alias.name}" for alias in node.names if f"{origin}.{alias.name}" in files]
                targets = subs or [origin]
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def import_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def layer_of(module: str) -> int:
    best, best_len = -1, -1
    for position, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = position, len(prefix)
    return best


def test_import_graph_finds_a_circle_in_a_made_up_package(tmp_path: Path) -> None:
    pkg = tmp_path / "toy"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from toy.sub import b\n")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import x\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toy import a\n")
    graph = import_graph(tmp_path, ["toy"])
    assert graph["toy.a"] == {"toy.sub.b"}
    assert graph["toy.sub.b"] == {"toy.c"}
    assert import_cycles(graph) == [["toy.a", "toy.c", "toy.sub.b"]]


def test_ledger_and_api_have_no_import_circle() -> None:
    cycles = import_cycles(import_graph(ROOT, PACKAGES))
    assert cycles == [], "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_every_module_belongs_to_a_layer() -> None:
    graph = import_graph(ROOT, PACKAGES)
    assert [m for m in graph if layer_of(m) < 0] == []


def test_layers_point_one_way_interfaces_capabilities_chain() -> None:
    graph = import_graph(ROOT, PACKAGES)
    wrong = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if layer_of(target) < layer_of(module)
    ]
    assert wrong == []


@pytest.mark.parametrize("package", PACKAGES)
def test_only_ledger_chain_imports_web3(package: str) -> None:
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        if module_name(ROOT, path).startswith("ledger.chain"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "web3" or n.startswith("web3.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_shadowed_by_a_package_of_the_same_name(package: str) -> None:
    shadowed = [str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py")
                if (p.with_suffix("") / "__init__.py").exists()]
    assert shadowed == []
