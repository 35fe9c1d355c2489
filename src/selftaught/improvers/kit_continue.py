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
import re

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
    and `return <name>`, so that a continued step has the answer in a variable of its own; the
    name is the objective's answer parameter (else "answer"), made unique in the entry. The
    program as it is when it already returns a name other than a parameter's, or has no final
    `return` of a value."""
    found = _final_return(program) if isinstance(program, str) else None
    if found is None or found[1].value is None:
        return program
    entry, final = found
    parameters = {a.arg for a in ast.walk(entry) if isinstance(a, ast.arg)}
    if isinstance(final.value, ast.Name) and final.value.id not in parameters:
        return program
    taken = {n.id for n in ast.walk(entry) if isinstance(n, ast.Name)} | parameters
    name = _fresh(_last_parameter(objective) or "answer", taken)
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


#: The share of the runtime contract's CPU time limit a scaffolded local search may use: the rest
#: is left to the program before it.
SEARCH_SHARE = 0.4
#: The scaffold's own names (made unique in the entry): the best value so far, when to stop, the
#: changed copy of the answer the model's lines change and judge, its value, and two positions
#: to change in it.
SEARCH_NAMES = ("best_value", "stop_at", "candidate", "value", "i", "j")
#: The step's comment, on the scaffold's names, the answer's and the objective's call on the copy.
SEARCH_STEP = (
    "local search: each round, change {change}, "
    "then `{value} = {judged}`, and when {value} > {best} keep it: "
    "`{answer}, {best} = {kept}, {value}`"
)


def cpu_limit(utility_text):
    """The CPU time limit per call the runtime contract states ("Limits per call: 0.1 s of CPU
    time"), in seconds; None when the text has none."""
    found = re.search(r"([0-9]+(?:\.[0-9]*)?(?:e-?[0-9]+)?) s of CPU time", utility_text or "")
    return float(found.group(1)) if found else None


#: Return types (the first word after `->`) whose answers a local search can index.
SEQUENCES = frozenset({"list", "tuple", "str", "numpy", "np", "List", "Tuple"})


def declared_return(utility_text):
    """The first word of the return type of the signature the runtime contract states
    ("exactly: algorithm(t, dist) -> str" gives "str"), or "" when it states none."""
    flat = re.sub(r"\n#\s+", " ", utility_text or "")
    found = re.search(r"exactly: [^\n]*?->\s*(\w+)", flat)
    return found.group(1) if found else ""


def search_start(program, objective, seconds, returns=""):
    """The start of a reply that adds a local search to `program`, as a loop the model only fills
    in: before the entry's final `return`, the step's comment, the answer's value by `objective`,
    and a loop that runs for `seconds` of CPU time and opens each round with a copy of the
    answer, and for an answer the declared return type (`returns`, `declared_return`) says is a
    sequence, two random positions in it to change (a str is copied as a list of its characters,
    joined to be judged and kept). Small models asked for a local search looped without checking
    the time or compared the wrong clocks, and timed out; given a loop, they changed every
    element in turn inside it, and timed out again. None when `program` cannot call `objective`
    on its own names (`objective_call`) or `seconds` is not positive."""
    call = objective_call(program, objective) if isinstance(objective, str) else None
    found = _final_return(program) if call else None
    if found is None or not isinstance(seconds, (int, float)) or not seconds > 0:
        return None
    entry, final = found
    answer = final.value.id
    taken = set().union(*_bound_and_loaded(entry))  # noqa: F821 (kit.py)
    if _head(objective).name in taken:  # the program's own function of that name would answer
        return None
    best, stop, candidate, value, position, other = (_fresh(n, taken) for n in SEARCH_NAMES)
    text, indexed = returns == "str", returns in SEQUENCES
    kept = f'"".join({candidate})' if text else candidate
    judged = call[: call.rindex(answer)] + kept + ")"
    change = (
        f"element {position} of `{candidate}` (flip it or move it, or swap it with element {other})"
        if indexed
        else f"`{candidate}` a little (flip, swap or move one element)"
    )
    step = SEARCH_STEP.format(
        change=change, judged=judged, best=best, answer=answer, value=value, kept=kept
    )
    indent = " " * final.col_offset
    copied = f"list({answer})" if text else f"copy.deepcopy({answer})"
    lines = (
        f"{best} = {call}",
        f"{stop} = time.process_time() + {seconds:.3g}",
        f"while time.process_time() < {stop}:",
        f"    {candidate} = {copied}",
    )
    if indexed:  # two positions: one to flip or move, or both to swap
        lines += (
            f"    {position}, {other} = random.randrange(len({candidate})), "
            f"random.randrange(len({candidate}))",
        )
    return continuation(program, step) + "".join(f"{indent}{line}\n" for line in lines)


def _fresh(name, taken):
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def end_with_return(code, program):
    """`code`, a continued `program`, with `program`'s final `return` appended when its entry no
    longer ends with a `return` (the reply stopped inside the step's loop); else as it is."""
    found = _final_return(program) if isinstance(program, str) else None
    tree = _parse(code) if found and isinstance(code, str) else None  # noqa: F821 (kit_repairs.py)
    last = tree.body[-1] if tree is not None and tree.body else None
    if not isinstance(last, ast.FunctionDef) or last.name != found[0].name:
        return code
    if isinstance(last.body[-1], ast.Return):
        return code
    final = found[1]
    closing = "\n".join(program.splitlines()[final.lineno - 1 : final.end_lineno])
    return f"{code.rstrip()}\n{closing}\n"


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
