"""The emulator's module layout: imports form no cycle, the HTTP helpers are a leaf, the app sits on top.

The graph is read from the source with `ast`, every import statement counted (inside functions and under
`TYPE_CHECKING` too): a cycle that only type checkers see is still a cycle to a reader.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = "emulator"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE
# Project code the emulator must never depend on: it stands in for Google, not for runway.
FORBIDDEN = ("shared", "functions", "cli", "devstack")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imported(path: Path) -> set[str]:
    """Absolute names of every module the file imports (`from .x import a` names `pkg.x.a` if that is a module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in modules() else source)
    return found


@cache
def graph() -> dict[str, set[str]]:
    """Module → the emulator modules it imports."""
    return {name: {m for m in imported(path) if m in modules() and m != name} for name, path in modules().items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None."""
    state: dict[str, str] = {}  # "active" while on the DFS stack, "done" after
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "active"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "active":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_the_graph_is_read_from_the_source() -> None:
    edges = graph()
    assert "emulator.app" in edges["emulator.server"]
    assert "emulator.compute.references" in edges["emulator.compute.api"]  # `from .references import ...`
    assert "emulator.run.activity" in edges["emulator.run.v2"]  # `from . import activity`: the module, not the package


def test_no_import_cycles_inside_the_emulator() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_http_helpers_are_a_leaf() -> None:
    assert graph()["emulator.http"] <= {"emulator.errors"}


def test_nothing_imports_the_app_but_the_server() -> None:
    importers = {name for name, targets in graph().items() if "emulator.app" in targets}
    assert importers == {"emulator.server"}


@pytest.mark.parametrize("package", FORBIDDEN)
def test_the_emulator_never_imports_project_code(package: str) -> None:
    offenders = sorted(
        name
        for name, path in modules().items()
        if any(m == package or m.startswith(f"{package}.") for m in imported(path))
    )
    assert offenders == []
