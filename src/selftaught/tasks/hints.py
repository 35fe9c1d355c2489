"""Failures explained in the runtime contract's terms, for the improver that reads them.

Small models write programs that use what they were shown: they call `utility(...)` to judge an
answer, or read the utility's own variables (its `items`, `secret`, `n_train`). The program runs
alone, so these fail with a bare NameError, and a model asked to repair "name 'items' is not
defined" rarely sees why. The hint names the cause. It is derived from the task's own utility text,
so task files get it too, and it reveals nothing the model was not shown.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from selftaught.tasks.contract import parameter_names

if TYPE_CHECKING:
    from selftaught.tasks.base import Task

_NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")
# A traceback frame of the candidate's own code (the sandbox compiles it as "<candidate>"),
# followed by the line of source that Python prints under it.
# Blanks only, never \s: a hostile error of many blank lines must not make the search quadratic.
_FRAME = re.compile(r'^[ \t]*File "<candidate>", line \d+, in (\S+)\n[ \t]*(\S[^\n]*)$', re.M)
MAX_LINE = 100
#: What `failing_line` adds to an error, for readers that group errors by kind.
LOCATION = re.compile(r", (?:in \S+|at the top level): `[^`\n]*`")


@lru_cache(maxsize=64)
def utility_names(utility_text: str) -> Mapping[str, str]:
    """The names the shown utility binds, each with its kind ("function", "import" or "name")."""
    try:
        tree = ast.parse(utility_text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return MappingProxyType({})
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names[node.name] = "function"
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.setdefault(node.id, "name")
        elif isinstance(node, ast.ClassDef):
            names.setdefault(node.name, "name")
        elif isinstance(node, ast.arg):
            names.setdefault(node.arg, "name")
        elif isinstance(node, ast.alias):
            names.setdefault((node.asname or node.name).split(".")[0], "import")
    return MappingProxyType(names)  # cached: callers get a read-only view


def failing_line(traceback: str) -> str | None:
    """Where the candidate's own code failed, from a traceback: "in f(): `x = y + 1`"."""
    frames = _FRAME.findall(traceback)
    if not frames:
        return None
    function, line = frames[-1]
    line = line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "..."
    if function == "<module>":
        where = "at the top level"
    else:  # a comprehension or lambda prints as "<listcomp>", "<lambda>"
        where = f"in {function}" if function.startswith("<") else f"in {function}()"
    return f"{where}: `{line}`"


def explain_failure(detail: str, task: Task) -> str:
    """`detail`, with the cause added when it is a NameError for a name of the shown utility."""
    match = _NAME_ERROR.search(detail)
    name = match.group(1) if match else ""
    kind = utility_names(task.utility_text).get(name)
    if kind is None:
        return detail
    if name in (parameter_names(task.signature, task.entry) or ()):
        return f"{detail} ('{name}' is a parameter of {task.entry}(): pass it to what uses it)"
    if kind == "import":
        return f"{detail} (the utility imports {name}; the program must import it itself)"
    if kind == "function":
        cause = f"{name}() is the utility's own function, so the program cannot call it"
    else:
        cause = f"'{name}' is the utility's, so the program cannot use it"
    return (
        f"{detail} ({cause}; nothing of the utility is in scope when the program runs: the "
        "program computes everything it uses itself, from its arguments)"
    )
