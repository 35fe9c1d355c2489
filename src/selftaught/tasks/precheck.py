"""Cheap static checks of a candidate's source, done in the orchestrator before any sandbox.

Parsing is not executing: `ast.parse` builds a syntax tree without running or even compiling the
program, so a syntax error or an obviously missing entry function is reported in milliseconds.
"""

from __future__ import annotations

import ast

MAX_SOURCE_BYTES = 512 * 1024


def precheck(source: object, entry: str) -> str | None:
    """A readable reason why `source` cannot work, or None if it is worth running."""
    if not isinstance(source, str):
        return f"source must be a string, got {type(source).__name__}"
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        return f"source is too large ({size} bytes; limit {MAX_SOURCE_BYTES})"
    if not source.strip():
        return "source is empty"
    try:
        tree = ast.parse(source, filename="<candidate>")
    except SyntaxError as exc:
        return f"syntax error: line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"cannot parse source: {type(exc).__name__}: {exc}"
    if not _may_define(tree, entry):
        return f"missing entry function: the program never defines {entry!r}"
    return None


def _may_define(tree: ast.AST, entry: str) -> bool:
    """False only when nothing in the program could bind `entry` (so it surely fails)."""
    return any(_binds(node, entry) for node in ast.walk(tree))


def _binds(node: ast.AST, entry: str) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name == entry
    if isinstance(node, ast.Name):
        return node.id == entry
    if isinstance(node, ast.alias):
        return (node.asname or node.name).split(".")[0] == entry
    if isinstance(node, ast.ImportFrom):
        return any(alias.name == "*" for alias in node.names)
    # Dynamic definitions: exec("def algorithm..."), globals()["algorithm"] = ...
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and entry in node.value
