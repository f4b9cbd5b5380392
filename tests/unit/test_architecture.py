"""The repository's layers, as contracts a test keeps (docs/decisions.md, "Layers").

Read from the source with `ast` (every import, also those inside functions, since a lazy import is still a
dependency):

- production code (`functions/`, `shared/`, `main.py`) never imports the local system (`emulator/`, `devstack/`)
  or the CLI; `shared/` never imports `functions/`; the emulator never imports runway (it must not share code
  with what it checks);
- inside `shared/`, modules import only downward through the layers below, and the pure planners (`plan_*`)
  import nothing that talks to an API;
- no import cycles anywhere;
- modules of `shared/` and `functions/` stay under 400 lines and functions under 60, unless the docstring says
  why with "Long because".
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "functions", "cli", "emulator", "devstack", "bench")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# shared/: each module's layer; a module may import its own layer and the ones below.
SHARED_LAYERS: dict[str, list[str]] = {
    "model": ["model"],
    "foundation": [
        "naming",
        "methods",
        "permissions",
        "config_hosts",
        "config",
        "errors",
        "decision_log",
        "event_envelope",
        "events",
        "event_replay",
        "clients",
    ],
    "plan": [
        "plan_paths",
        "plan_limits",
        "plan_ingress",
        "plan_route",
        "plan_objects",
        "plan_outcome",
        "plan_status",
        "plan_url_map_index",
        "plan_url_map_build",
        "plan_url_map",
    ],
    "api": ["api_run", "api_compute", "api_resources"],
    "apply": ["apply_objects", "apply_url_map", "apply_status", "route_log", "sweep_result"],
    "flow": [
        "flow_scope",
        "flow_status",
        "flow_ingress",
        "flow_routes",
        "flow_sweep_observe",
        "flow_sweep",
    ],
}
LAYER_ORDER = list(SHARED_LAYERS)
# What a pure planner may import: values, names and configuration, never a client or the decision log.
PURE_MAY_IMPORT = {"shared.model", "shared.naming", "shared.config", "shared.config_hosts", "shared.methods"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> Iterator[Path]:
    yield ROOT / "main.py"
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def imports(path: Path) -> set[str]:
    """Every module `path` imports (relative imports resolved), limited to the repository's packages."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    known = {module_name(p) for p in sources()}
    return {m for m in found if m in known}


GRAPH = {module_name(path): imports(path) for path in sources()}


def top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("functions", {"emulator", "devstack", "cli", "bench"}),
        ("shared", {"emulator", "devstack", "cli", "bench", "functions"}),
        ("main", {"emulator", "devstack", "bench"}),
        ("emulator", {"shared", "functions", "cli", "devstack", "bench"}),
    ],
)
def test_import_boundaries(importer: str, forbidden: set[str]) -> None:
    crossings = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if top(module) == importer
        for target in targets
        if top(target) in forbidden
    )
    assert crossings == []


def test_every_shared_module_has_a_layer() -> None:
    layered = {f"shared.{name}" for names in SHARED_LAYERS.values() for name in names}
    modules = {m for m in GRAPH if top(m) == "shared" and m != "shared"}
    assert modules - layered == set(), "give each new module of shared/ its layer in SHARED_LAYERS"
    assert layered - modules == set(), "SHARED_LAYERS names modules that do not exist"


def test_shared_imports_only_downward() -> None:
    layer_of = {f"shared.{n}": LAYER_ORDER.index(layer) for layer, names in SHARED_LAYERS.items() for n in names}
    upward = sorted(
        f"{module} ({LAYER_ORDER[layer_of[module]]}) imports {target} ({LAYER_ORDER[layer_of[target]]})"
        for module, targets in GRAPH.items()
        if module in layer_of
        for target in targets
        if target in layer_of and layer_of[target] > layer_of[module]
    )
    assert upward == []


def test_pure_planners_import_no_side_effects() -> None:
    planners = {f"shared.{n}" for n in SHARED_LAYERS["plan"]}
    impure = sorted(
        f"{module} imports {target}"
        for module in planners & set(GRAPH)
        for target in GRAPH[module]
        if target.startswith("shared.") and target not in PURE_MAY_IMPORT and target not in planners
    )
    assert impure == []


def test_no_import_cycles() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, targets in GRAPH.items():
        # A package's __init__ re-exporting its modules is not a cycle with them.
        edges[module] |= {t for t in targets if t != module and not module.startswith(f"{t}.")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target] if target in trail else [node, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def _bounded() -> Iterator[Path]:
    for package in ("shared", "functions"):
        yield from sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", list(_bounded()), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_stay_small(path: Path) -> None:
    source = path.read_text()
    tree = ast.parse(source)
    problems = []
    lines = source.count("\n")
    if lines > MAX_MODULE_LINES and "Long because" not in (ast.get_docstring(tree) or ""):
        problems.append(f"{lines} lines")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES and "Long because" not in (ast.get_docstring(node) or ""):
                problems.append(f"{node.name}: {length} lines")
    assert problems == []


def test_decision_actions_are_spelled_through_the_enum() -> None:
    """`log.decide(...)` takes `Action.X`, never a bare string (one spelling; mypy checks the type too)."""
    bare = re.compile(r"\.decide\(\s*\"")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if bare.search(line)
    ]
    assert found == []
