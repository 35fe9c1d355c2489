"""The package's import graph runs one way (issue #17).

Every module under `src/selftaught` is parsed with `ast`; every import counts, including those
inside functions and under `TYPE_CHECKING` (a lazy import still couples two modules, and a
type-only import still says which module knows which). Two rules:

- no cycle between modules;
- no import against the layer order: errors -> (config, lm, sandbox, tasks, store, improvers)
  -> core -> execute -> search -> (report, cli) -> the package's entry points.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "selftaught"

#: Lower layers first. A module may import its own layer (if that makes no cycle) or a lower one.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors"}),
    frozenset({"config", "writable", "lm", "sandbox", "tasks", "store", "improvers"}),
    frozenset({"core"}),
    frozenset({"execute"}),
    frozenset({"search"}),
    frozenset({"report", "cli"}),
    frozenset({"", "__main__"}),  # the package itself and `python -m selftaught`
)

Graph = Mapping[str, frozenset[str]]


def module_files(src: Path = SRC, package: str = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package `__init__`)."""
    found = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _imported(node: ast.AST, here: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The project modules one import statement loads (the deepest known module of each name).

    `from pkg import name` depends on `pkg.name` when that is a module, else on `pkg`: importing
    a submodule is not a dependency on its package's `__init__`.
    """
    known = set(known)
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = here.split(".") if is_package else here.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                 for alias in node.names]  # fmt: skip
    out = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != here:
            out.add(name)
    return out


def import_graph(src: Path = SRC, package: str = PACKAGE) -> dict[str, frozenset[str]]:
    """Module -> the project modules it imports anywhere in its body."""
    files = module_files(src, package)
    graph = {}
    for name, (path, is_package) in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for node in ast.walk(tree):
            targets |= _imported(node, name, is_package, files)
        graph[name] = frozenset(targets)
    return graph


def find_cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return cycles


def layer_of(module: str, package: str = PACKAGE) -> int:
    """The layer of a module, from its top-level part under the package."""
    top = module.removeprefix(package).lstrip(".").split(".")[0]
    for rank, members in enumerate(LAYERS):
        if top in members:
            return rank
    raise AssertionError(f"{module}: its part {top!r} has no layer; add it to LAYERS")


def upward_imports(graph: Graph, package: str = PACKAGE) -> list[tuple[str, str]]:
    """Every import of a module from a higher layer than the importer's."""
    return sorted(
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if layer_of(target, package) > layer_of(source, package)
    )


# -- the checks on the real package ---------------------------------------------------------------
def test_the_package_has_no_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_module_imports_a_higher_layer() -> None:
    upward = upward_imports(import_graph())
    assert upward == [], "imports against the layer order:\n" + "\n".join(
        f"{a} -> {b}" for a, b in upward
    )


def test_the_graph_sees_the_package() -> None:
    graph = import_graph()
    # a function-level import and a TYPE_CHECKING one are both edges
    assert "selftaught.core.meta" in graph
    assert "selftaught.store.db" in graph["selftaught.core.jobs"]
    assert len(graph) > 100


# -- the checkers themselves can fail -------------------------------------------------------------
def test_find_cycles_reports_a_synthetic_cycle() -> None:
    graph = {
        "p.a": frozenset({"p.b"}),
        "p.b": frozenset({"p.c"}),
        "p.c": frozenset({"p.a"}),
        "p.d": frozenset({"p.a"}),
        "p.e": frozenset({"p.e"}),  # an import of itself is no cycle between modules
    }
    assert find_cycles(graph) == [["p.a", "p.b", "p.c"]]
    assert find_cycles({"p.a": frozenset({"p.b"}), "p.b": frozenset()}) == []


def test_upward_imports_flag_a_store_that_calls_the_search() -> None:
    graph = {
        "selftaught.store.summary": frozenset({"selftaught.search.tree_search"}),
        "selftaught.search.tree_search": frozenset({"selftaught.store.db"}),
    }
    assert upward_imports(graph) == [("selftaught.store.summary", "selftaught.search.tree_search")]


def test_function_level_and_relative_imports_are_edges(tmp_path: Path) -> None:
    pkg = tmp_path / "demo"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("")
    (pkg / "low" / "a.py").write_text("def f():\n    from demo.low import b\n")
    (pkg / "low" / "b.py").write_text("from . import a\n")
    graph = import_graph(tmp_path, "demo")
    assert graph["demo.low.a"] == {"demo.low.b"}
    assert graph["demo.low.b"] == {"demo.low.a"}
    assert find_cycles(graph) == [["demo.low.a", "demo.low.b"]]


def test_a_part_without_a_layer_is_an_error() -> None:
    with pytest.raises(AssertionError, match="no layer"):
        layer_of("selftaught.nowhere.x")
