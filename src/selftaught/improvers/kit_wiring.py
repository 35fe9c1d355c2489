"""The improver kit: calling the function a reply wrote and never called.

Stdlib only, and part of the sandbox's `helpers` module (after kit_repairs.py, see
`selftaught.core.session.KIT_PATHS`). Small models asked to add a step to a program (a local
search, restarts) often write the step as a new function and leave the entry as it was, so the
candidate behaves exactly like its parent. `wired_variant` makes the variant that calls it: the
entry is renamed `<entry>_base`, and a new entry returns

- `step(..., answer=<entry>_base(...))` for a step on the answer: a function whose one parameter
  that is not the entry's takes the answer (`local_search(groups)`, `improve(points, tour)`), or
- `step(...)` for a new entry written beside the old one (`algorithm_with_local_search(numbers)`),

passing the entry's own parameters by name. The variant is a separate candidate: the improver
scores it beside the reply, so a wrong guess costs one utility call and changes nothing else.
"""

import ast
import re

#: What the old entry is renamed to (with `_` appended while the name is taken).
BASE_SUFFIX = "_base"
#: Names of earlier versions (`algorithm_v0`, `algorithm_v1_`): kept for reference, not steps.
_VERSION_NAME = re.compile(r"_v\d+_*$")


def _functions(tree):
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _names_in(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _required(node):
    """The positional parameters of `node` that have no default."""
    params = node.args.posonlyargs + node.args.args
    return [a.arg for a in params[: len(params) - len(node.args.defaults)]]


def _plain_signature(node):
    """The entry's parameter names, or None when it has anything but plain positional ones."""
    args = node.args
    if args.posonlyargs or args.vararg or args.kwarg or args.kwonlyargs or node.decorator_list:
        return None
    return [a.arg for a in args.args]


def _reached(tree, entry):
    """The names of the top-level functions that the entry or top-level code reaches."""
    functions = _functions(tree)
    top_level = [s for s in tree.body if not isinstance(s, ast.FunctionDef)]
    todo = [entry, *(name for statement in top_level for name in _names_in(statement))]
    reached = set()
    while todo:
        name = todo.pop()
        if name in functions and name not in reached:
            reached.add(name)
            todo += _names_in(functions[name])
    return reached


def unreached_functions(source, entry):
    """The top-level functions of `source` that neither its entry nor its top-level code reaches
    (none when it does not parse or has no such entry): a step a reply wrote and never called."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return set()
    functions = _functions(tree)
    return set(functions) - _reached(tree, entry) if entry in functions else set()


def _unreached_roots(tree, entry):
    """New top-level functions that neither the entry nor top-level code reaches, and that no
    other such function calls (a step's own helpers are reached through it), last first."""
    reached = _reached(tree, entry)
    unreached = [f for name, f in _functions(tree).items() if name not in reached]
    called = set().union(*(_names_in(f) - {f.name} for f in unreached)) if unreached else set()
    roots = [
        f
        for f in unreached
        if f.name not in called
        and not _VERSION_NAME.search(f.name)
        and not f.name.endswith("utility")
    ]
    return roots[::-1]


def _borrowed(step, params, module):
    """The entry's parameters `step` uses without binding them, which would be a NameError when
    it runs (the model meant the entry's arguments); None when it uses some and its signature
    cannot take more (`*args`, keyword-only parameters)."""
    free = _free_names(ast.unparse(step))  # noqa: F821 (kit_objective.py)
    names = [p for p in params if p in free and p not in module]
    a = step.args
    return None if names and (a.vararg or a.kwonlyargs or a.kwarg) else names


def _header_edit(lines, step, names):
    """The edit that adds `names` to `step`'s parameters, keyword-only after the ones it has."""
    a = step.args
    last = max(
        [*a.posonlyargs, *a.args, *a.defaults], key=lambda n: (n.end_lineno, n.end_col_offset),
        default=None,
    )  # fmt: skip
    if last is None:  # `def step():` -- just inside the parenthesis after the name
        lineno, _start, end = _def_name_span(lines, step)  # noqa: F821 (kit_repairs.py)
        at = lines[lineno - 1].encode("utf-8").find(b"(", end) + 1
        return lineno, at, at, f"*, {', '.join(names)}"
    at = last.end_col_offset
    return last.end_lineno, at, at, f", *, {', '.join(names)}"


def _step_call(step, params, base, borrowed):
    """The call of `step` that the new entry returns, or None when its parameters cannot all be
    bound: a new entry takes only the entry's parameters; a step on the answer takes the answer
    (its one parameter that is not the entry's) and entry parameters. All are passed by name;
    parameters with defaults keep them, and `borrowed` ones (`_borrowed`) are added."""
    required = [*_required(step), *borrowed]
    if not required or step.decorator_list or None in step.args.kw_defaults:
        return None
    own = [p for p in required if p not in params]
    if len(own) > 1:
        return None
    answer = f"{base}({', '.join(params)})"
    values = {p: answer if p in own else p for p in required}
    return f"{step.name}({', '.join(f'{p}={v}' for p, v in values.items())})"


def wired_variant(code, parent=None):
    """`code` with its entry calling a new function it never calls (see the module's docstring),
    or None when there is none that can be called with what the entry has. Functions the
    `parent` program already defines are not new; nor are earlier versions (`algorithm_v0`).
    A step that uses the entry's parameters without having them gets them as parameters."""
    entry = globals().get("ENTRY") or "algorithm"
    tree = _parse(code) if isinstance(code, str) else None  # noqa: F821 (kit_repairs.py)
    node = _functions(tree).get(entry) if tree else None
    params = _plain_signature(node) if node else None
    if params is None:
        return None
    parent_tree = _parse(parent) if isinstance(parent, str) else None  # noqa: F821
    old = set(_functions(parent_tree)) if parent_tree else set()
    base = entry + BASE_SUFFIX
    bound = _bound_and_loaded(tree)  # noqa: F821 (kit.py)
    taken = set().union(*bound)
    while base in taken:
        base += "_"
    module = {n for s in tree.body for n in _binds(s)}  # noqa: F821 (kit_objective.py)
    for step in _unreached_roots(tree, entry):
        borrowed = _borrowed(step, params, module) if step.name not in old else None
        call = _step_call(step, params, base, borrowed) if borrowed is not None else None
        if call is None:
            continue
        lines = code.splitlines()
        edits = [(*_def_name_span(lines, node), base)]  # noqa: F821 (kit_repairs.py)
        uses = _loads_of(entry, tree.body)  # noqa: F821 (kit_repairs.py)
        edits += [(u.lineno, u.col_offset, u.end_col_offset, base) for u in uses]
        if borrowed:
            edits.append(_header_edit(lines, step, borrowed))
        renamed = _replace_spans(code, edits).rstrip()  # noqa: F821 (kit_repairs.py)
        return f"{renamed}\n\n\ndef {entry}({', '.join(params)}):\n    return {call}\n"
    return None
