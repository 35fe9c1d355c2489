"""The runtime contract: how the hidden scorer runs a candidate, told to the language model.

A task's utility text shows the model a simplified scorer; the model cannot see the sandbox it will
really run in. Small models fill the gap with guesses (modules the utility imported being in scope,
sklearn being installed, probabilities being fine), and those guesses cost most candidates. So the
text the model sees ends with the contract, generated from what the task declares (entry,
signature, limits, packages), for built-in tasks and task files alike.
"""

from __future__ import annotations

import ast
import re
import sys
import textwrap
from typing import TYPE_CHECKING

from selftaught.sandbox import importable_packages

if TYPE_CHECKING:
    from selftaught.tasks.base import Task

#: Named because small models reach for them first; none is importable unless a task declares it.
OFTEN_ASSUMED = ("scipy", "sklearn", "tensorflow", "torch", "pandas")
WIDTH = 96


def importable(task: Task) -> tuple[str, ...]:
    """The non-stdlib packages `task`'s candidates can import: the sandbox's plus its own."""
    return importable_packages(task.packages)


def _size(limit: int) -> str:
    return f"{limit / (1 << 20):g} MiB" if limit >= 1 << 20 else f"{limit / 1024:g} KiB"


#: The contract's first line; a reply that starts copying it has ended its program.
CONTRACT_HEADING = "# How the hidden scorer really runs the program (its runtime contract):"


def runtime_contract(task: Task) -> str:
    """The contract as Python comments, to follow the task's utility text."""
    packages = importable(task)
    missing = [name for name in OFTEN_ASSUMED if name not in packages]
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    rules = [
        f"Each call runs the program alone, in a fresh sandboxed Python {python} process with no"
        " network. Nothing from the utility above is in scope: the program must import every"
        " module it uses itself, at its top.",
        f"Importable: the Python standard library and {', '.join(packages)}."
        + (f" Nothing else: {', '.join(missing)} are not installed." if missing else ""),
        f"It must define, at the top level, exactly: {task.signature}. Keep the name"
        f" {task.entry!r} and its parameters; do not define the utility.",
        "Return exactly the declared type and shape, built from plain lists, ints, floats,"
        " bools and str unless the signature names a numpy type; never probabilities or scores"
        " where labels or choices are asked for.",
        f"Limits per call: {task.time_limit_seconds:g} s of CPU time,"
        f" {_size(task.memory_bytes)} of memory, an answer of at most {_size(task.output_bytes)}."
        " A timeout, an exception or an answer of the wrong type, length or range scores 0 for"
        " that instance.",
    ]
    lines = [CONTRACT_HEADING]
    for rule in rules:
        lines += textwrap.wrap(
            rule, WIDTH, initial_indent="# - ", subsequent_indent="#   ", break_on_hyphens=False
        )
    return "\n".join(lines) + "\n"


#: Modules a reply starts with in code decoding: always importable, and the ones small models most
#: often use without importing them.
PREIMPORTED = "import math\nimport random\n\nimport numpy as np\n"


def parameter_names(signature: str, entry: str) -> list[str] | None:
    """The parameter names in a declared signature such as "f(a, b: dict[str, int]) -> int"
    (annotations and defaults dropped); None when the signature does not spell them out."""
    start = signature.find(f"{entry}(")
    if start < 0:
        return None
    depth, params, current = 0, [], ""
    for char in signature[start + len(entry) + 1 :]:
        if char == ")" and depth == 0:
            params.append(current)
            names = [p.split(":")[0].split("=")[0].strip() for p in params if p.strip()]
            return names if all(n.lstrip("*").isidentifier() for n in names) else None
        if char == "," and depth == 0:
            params.append(current)
            current = ""
            continue
        depth += (char in "([{") - (char in ")]}")
        current += char
    return None


def function_head(signature: str, entry: str) -> str:
    """`def entry(params):` from a declared signature, or `def entry(` when it names none."""
    names = parameter_names(signature, entry)
    return f"def {entry}(" if names is None else f"def {entry}({', '.join(names)}):\n"


def code_reply_prefix(
    fence: str, packages: tuple[str, ...], head: str, imports: str = PREIMPORTED
) -> str:
    """The start of a reply in code decoding: the fence; the contract's key rule as the program's
    first line, where a small model attends most (nearest to what it writes); the modules small
    models use without importing them; and the head of the function the program must define, so
    the reply is that function (not a renamed one, not the utility, not another program), with
    the declared parameters (`function_head`).

    `fence` is the configured prefix (`RunConfig.reply_prefix`); empty means plain decoding.
    """
    if not fence:
        return ""
    available = ", ".join(("the standard library", *importable_packages(packages)))
    rule = f"# Runs alone: import every module used. Installed: {available}, nothing else.\n"
    return f"{fence}{rule}{imports}\n\n{head}"


_UTILITY_DEF = re.compile(r"^def (\w*utility)\(", re.MULTILINE)
#: Closes the code block a code-decoded reply opens: what follows is prose nobody reads.
CLOSING_FENCE = "\n```"


def reply_stops(fence: str, utility_text: str, *, closes_block: bool = True) -> tuple[str, ...]:
    """Where a code-decoded reply may end: at the fence closing its code block, and where it
    starts copying the utility it was shown (`def <name>(` of its first top-level function whose
    name ends in "utility"; helpers shown beside it may be reused, so they do not stop a reply),
    which small models often do after the program and which the program must not define, or the
    runtime contract that follows it (`CONTRACT_HEADING`).

    Nothing in plain decoding (the paper's sampling). `closes_block=False` for replies whose
    code may itself hold fences (or the contract) in its strings, as improvers building prompts
    do: they stop only at a copied utility.
    """
    if not fence:
        return ()
    stops = [CLOSING_FENCE] if closes_block else []
    utility = _UTILITY_DEF.search(utility_text)
    if utility:
        stops.append(f"\ndef {utility.group(1)}(")
    if closes_block and CONTRACT_HEADING in utility_text:
        stops.append(f"\n{CONTRACT_HEADING}")
    return tuple(stops)


#: The comment that opens a new step in a continued reply (and, written again, ends the reply).
NEW_STEP = "# New step"
#: The new step a continued reply opens when no particular one is asked for.
CONTINUE_STEP = "make the answer better before returning it"
#: Where a continued reply resumes: a new step just before the program's answer is returned.
CONTINUE_MARKER = f"{NEW_STEP}: {CONTINUE_STEP}."


def continuation_prefix(
    fence: str, program: str, entry: str, step: str = CONTINUE_STEP
) -> str | None:
    """The start of a reply that continues `program` rather than rewriting it.

    Small models asked for an improved version copy the program they are shown. Started inside
    it, just before its top-level `entry` function returns, with a comment opening a new step
    (`# New step: <step>.`), they must write something new there, and the reply is still a
    whole program. None when the program does not end with `entry` ending in a `return` (the
    caller then rewrites instead).
    """
    final = _final_return(program, entry) if fence else None
    if final is None:
        return None
    kept = "\n".join(program.splitlines()[: final.lineno - 1]).rstrip()
    indent = " " * final.col_offset
    return f"{fence}{kept}\n\n{indent}{NEW_STEP}: {step.rstrip('.')}.\n"


def continuation_closing(program: str, entry: str) -> tuple[str, str] | None:
    """(marker, closing) for a continued reply: it ends where the model opens a second new step,
    and the program's own final `return` closes it then, so each reply is one step whole.

    Small models shown a list of steps write them all, one after another, and a later one
    often breaks a good first one. None when `program` cannot be continued.
    """
    final = _final_return(program, entry)
    if final is None:
        return None
    indent = " " * final.col_offset
    lines = program.splitlines()[final.lineno - 1 : final.end_lineno]
    return f"\n{indent}{NEW_STEP}", "\n\n" + "\n".join(lines) + "\n"


def _final_return(program: str, entry: str) -> ast.Return | None:
    """The last statement of `program`'s last top-level function `entry`, when it returns."""
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return None
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.FunctionDef) or last.name != entry:
        return None
    final = last.body[-1]
    return final if isinstance(final, ast.Return) else None


def shown_utility_text(task: Task, *, contract: bool = True) -> str:
    """What the language model is shown as the task's utility: its text, then the contract."""
    if not contract:
        return task.utility_text
    return f"{task.utility_text.rstrip()}\n\n\n{runtime_contract(task)}"
