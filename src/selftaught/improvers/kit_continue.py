"""The improver kit: replies that continue a program with one new step instead of rewriting it.

Stdlib only, and part of the sandbox's `helpers` module (after kit.py, see
`selftaught.core.session.KIT_PATHS`).

Asked to add a local search "at the end", a small model copies the program and writes the search
as a helper below it that nothing calls: the copy scores what the program scored. A reply started
inside the program, just before its entry function's final `return`, with a comment opening the
new step, has the answer's variables in scope and must write the step there; the program's own
`return` then closes it. `Budgets.ask(..., starts=...)` sends such starts as the extension
`reply_starts` of `batch_prompt`; under plain decoding the orchestrator ignores them, and the reply
is an ordinary rewrite.
"""

import ast

#: The comment that opens the new step (as at the meta level, `tasks.contract.NEW_STEP`).
STEP_MARK = "# New step"


def _final_return(program):
    """(the entry function, its final `return`), when the program ends with that function and
    it ends with a `return`. The entry is the harness's `ENTRY`; without it (this file used on its
    own), the last top-level function."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    last = tree.body[-1] if tree.body else None
    entry = globals().get("ENTRY")
    if not isinstance(last, ast.FunctionDef) or (entry and last.name != entry):
        return None
    final = last.body[-1]
    return (last, final) if isinstance(final, ast.Return) else None


def continuation(program, step):
    """The start of a reply that adds `step` to `program` just before its entry function's final
    `return` (None when the program does not end with that function ending in a `return`)."""
    found = _final_return(program) if isinstance(program, str) else None
    if found is None:
        return None
    _, final = found
    kept = "\n".join(program.splitlines()[: final.lineno - 1]).rstrip()
    indent = " " * final.col_offset
    return f"{kept}\n\n{indent}{STEP_MARK}: {step.rstrip('.')}.\n"


def _head(function_text):
    """The function `function_text` starts with, or None."""
    try:
        head = ast.parse(function_text).body[0] if isinstance(function_text, str) else None
    except (SyntaxError, ValueError, IndexError, RecursionError, MemoryError):
        return None
    return head if isinstance(head, ast.FunctionDef) else None


def _last_parameter(function_text):
    """The last positional parameter of the function `function_text` starts with, or None."""
    head = _head(function_text)
    args = head.args.posonlyargs + head.args.args if head else []
    return args[-1].arg if args else None


def named_return(program, objective=""):
    """`program` with its entry's final `return <expression>` split into `<name> = <expression>`
    and `return <name>`, so that a continued step has the answer in a variable; the name is the
    objective's answer parameter (else "answer"), made unique in the entry. The program as it is
    when it already returns a name or has no final `return` of a value."""
    found = _final_return(program) if isinstance(program, str) else None
    if found is None or found[1].value is None or isinstance(found[1].value, ast.Name):
        return program
    entry, final = found
    taken = {n.id for n in ast.walk(entry) if isinstance(n, ast.Name)}
    taken |= {a.arg for a in ast.walk(entry) if isinstance(a, ast.arg)}
    name = _last_parameter(objective) or "answer"
    while name in taken:
        name += "_"
    lines = program.splitlines()
    indent = " " * final.col_offset
    value = ast.get_source_segment(program, final.value)
    named = [f"{indent}{name} = {value}", f"{indent}return {name}"]
    return "\n".join([*lines[: final.lineno - 1], *named, *lines[final.end_lineno :]]) + "\n"


def objective_call(program, objective):
    """How `program`'s entry would call `objective` on its own names, e.g. "objective(points,
    tour)": the entry's parameters, then the name its final `return` gives back. None when the
    return is not a plain name, or when the entry takes other arguments than the objective's."""
    found = _final_return(program) if isinstance(program, str) else None
    head = _head(objective)
    if found is None or head is None:
        return None
    entry, final = found
    if not isinstance(final.value, ast.Name):
        return None
    params = [a.arg for a in entry.args.posonlyargs + entry.args.args]
    wanted = len(head.args.posonlyargs + head.args.args) - 1
    if len(params) != wanted or entry.args.vararg or entry.args.kwonlyargs:
        return None
    return f"{head.name}({', '.join([*params, final.value.id])})"


def close_step(reply, program):
    """`reply`, a continued program, cut where it opens a second new step, with `program`'s final
    `return` put after the first: each reply is one step whole. Other replies come back as
    they are."""
    found = _final_return(program) if isinstance(program, str) else None
    if found is None or not isinstance(reply, str):
        return reply
    _, final = found
    indent = " " * final.col_offset
    first = reply.find(f"\n{indent}{STEP_MARK}")
    second = reply.find(f"\n{indent}{STEP_MARK}", first + 1) if first >= 0 else -1
    if second < 0:
        return reply
    closing = "\n".join(program.splitlines()[final.lineno - 1 : final.end_lineno])
    return f"{reply[:second].rstrip()}\n\n{closing}\n```\n"


#: How a new version's docstring names the version it improves (FunSearch's prompt).
VERSION_NOTE = "Improved version of `{old}`"


def versioned_start(program, note):
    """The start of a reply that writes a new version of `program`'s entry function below it:
    the program whole, its entry renamed `<entry>_v0` (uses too), then the entry's own header and
    the docstring "Improved version of `<entry>_v0`: <note>." (FunSearch's prompt). The old
    version stays callable, so "the current approach, then ..." can call it instead of recursing.
    None when the program has no top-level entry function with its body on lines of its own."""
    entry = globals().get("ENTRY") or "algorithm"
    tree = _parse(program) if isinstance(program, str) else None  # noqa: F821 (kit_repairs.py)
    defs = [n for n in (tree.body if tree else []) if isinstance(n, ast.FunctionDef)]
    node = next((n for n in reversed(defs) if n.name == entry), None)
    if node is None or node.body[0].lineno <= node.lineno:
        return None
    taken = set().union(*_bound_and_loaded(tree))  # noqa: F821 (kit.py)
    old = f"{entry}_v0"
    while old in taken:
        old += "_"
    lines = program.splitlines()
    header = "\n".join(lines[node.lineno - 1 : node.body[0].lineno - 1])  # before the renaming
    edits = [(*_def_name_span(lines, node), old)]  # noqa: F821 (kit_repairs.py)
    uses = _loads_of(entry, tree.body)  # noqa: F821 (kit_repairs.py)
    edits += [(u.lineno, u.col_offset, u.end_col_offset, old) for u in uses]
    renamed = _replace_spans(program, edits).rstrip()  # noqa: F821 (kit_repairs.py)
    indent = " " * node.body[0].col_offset
    doc = VERSION_NOTE.format(old=old) + (f": {note.rstrip('.')}." if note else ".")
    return f'{renamed}\n\n\n{header}\n{indent}"""{doc}"""\n'
