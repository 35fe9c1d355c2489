"""The improver kit: the utility's score of one answer, as a function a program can call.

Stdlib only, and part of the sandbox's `helpers` module (after kit_repairs.py, see
`selftaught.core.session.KIT_PATHS`). Small models asked to add a local search or restarts judge
each answer by calling `utility(...)`, which is not in scope when the program runs, or by an
objective of their own that does not match the score. `derived_objective` cuts the utility's own
code down to `objective(<the entry's arguments>, <answer>)`: the statements that check and score
one answer, and those they need. It is derived only where that is exact: one call of the entry
with plain names as arguments, and nothing random among the statements kept (an objective that
needs the instance's hidden truth, such as parity's labels, has none). A utility written as the
paper's are (a loop that builds an instance, calls the entry in a `try`, appends a score or adds
to a total) qualifies; any other shape gives None.
"""

import ast
import symtable

#: The derived function's name (with `_` appended while the utility's text uses it).
OBJECTIVE_NAME = "objective"
#: The answer's parameter name when the utility does not assign the entry's result to one name.
ANSWER_NAME = "answer"
#: Names that make a statement unfit for an objective: randomness, and running the program.
_UNFIT = {"random", "exec", "eval", "globals", "algorithm_str"}


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)  # fmt: skip


def _outside_scopes(node):
    """The nodes of `node` that are not inside a nested function, class or comprehension."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        if current is node or not isinstance(current, _SCOPES):
            todo.extend(ast.iter_child_nodes(current))


def _binds(statement):
    """The names `statement` binds in the scope it runs in."""
    names = set()
    for node in _outside_scopes(statement):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(statement, _SCOPES[:3]):
        names = {statement.name}
    return names


def _changes(statement):
    """The names whose value `statement` changes in place: `name[...] = ...`, `name.x = ...`,
    `name[...] += ...`, `name.append(...)` (any method call, to be safe)."""
    names = set()
    for node in _outside_scopes(statement):
        target = None
        if isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(node.ctx, ast.Load):
            target = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
        while isinstance(target, (ast.Subscript, ast.Attribute)):
            target = target.value
        if isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _free_names(source):
    """The global names the one function in `source` uses (its nested scopes' too)."""
    todo, found = [symtable.symtable(source, "objective", "exec").get_children()[0]], set()
    while todo:
        table = todo.pop()
        found |= {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
        todo.extend(table.get_children())
    return found


def _fit(node):
    """Whether `node` uses no randomness and does not run a program (`_UNFIT`)."""
    for n in ast.walk(node):
        if (
            isinstance(n, ast.Name)
            and n.id in _UNFIT
            or isinstance(n, ast.Attribute)
            and n.attr in _UNFIT
        ):
            return False
    return True


def _entry_call(utility, entry):
    """The utility's one call of the entry, with plain names as arguments; else None."""
    calls = [
        n
        for n in ast.walk(utility)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == entry
    ]
    if len(calls) != 1 or calls[0].keywords:
        return None
    names = [a.id for a in calls[0].args if isinstance(a, ast.Name)]
    return calls[0] if len(names) == len(calls[0].args) == len(set(names)) else None


def _contains(statement, node):
    return any(n is node for n in ast.walk(statement))


def _scope(utility, call):
    """(statements before the loop, statements before the call in its block, the statement with
    the call, statements after it, whether a loop holds it); None for any other shape. A `try`
    around the call is unwrapped: the objective has its own."""
    outer, block, looped = [], utility.body, False
    while True:
        index = next((i for i, s in enumerate(block) if _contains(s, call)), None)
        if index is None:
            return None
        statement, head, tail = block[index], block[:index], block[index + 1 :]
        if isinstance(statement, (ast.For, ast.While)) and not looped and not statement.orelse:
            outer, block, looped = outer + head, statement.body, True
            continue
        if isinstance(statement, ast.Try) and not (statement.orelse or statement.finalbody):
            inner = next((i for i, s in enumerate(statement.body) if _contains(s, call)), None)
            rest = statement.body
            return outer, head + rest[:inner], rest[inner], rest[inner + 1 :] + tail, looped
        return outer, head, statement, tail, looped


class _Scored(ast.NodeTransformer):
    """Turns adding one answer's score to one of the utility's `totals` into returning it."""

    def __init__(self, totals):
        self.totals, self.found = totals, False

    def visit_AugAssign(self, node):
        if isinstance(node.target, ast.Name) and node.target.id in self.totals:
            self.found = True
            return ast.Return(node.value)
        return node

    def visit_Expr(self, node):
        call = node.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "append"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in self.totals
            and len(call.args) == 1
        ):
            self.found = True
            return ast.Return(call.args[0])
        return node


class _Answered(ast.NodeTransformer):
    """Puts the answer's name where the entry was called."""

    def __init__(self, call):
        self.call = call

    def visit_Call(self, node):
        return ast.Name(ANSWER_NAME, ast.Load()) if node is self.call else self.generic_visit(node)


def derived_objective(text, entry=None):
    """Source of `def objective(<entry's arguments>, <answer>)`: the utility's score of one
    answer, 0.0 where the utility would reject it (see the module's docstring); None when the
    utility's code does not allow it."""
    entry = entry or globals().get("ENTRY") or "algorithm"
    try:
        module = ast.parse(text)
        utilities = [
            n for n in module.body if isinstance(n, ast.FunctionDef) and n.name.endswith("utility")
        ]
        call = _entry_call(utilities[-1], entry) if utilities else None
        scope = _scope(utilities[-1], call) if call else None
        return _derived(module, call, *scope) if scope else None
    except Exception:  # also MemoryError/RecursionError on hostile input, SyntaxError of unparse
        return None


def _derived(module, call, outer, before, statement, after, looped):
    args = [a.id for a in call.args]
    single = isinstance(statement, ast.Assign) and len(statement.targets) == 1
    if single and statement.value is call and isinstance(statement.targets[0], ast.Name):
        answer = statement.targets[0].id
    else:
        answer, after = ANSWER_NAME, [_Answered(call).visit(statement), *after]
    scored = _Scored(set().union(*map(_binds, outer)))
    body = [scored.visit(s) for s in after]
    if (looped and not scored.found) or answer in args or not all(map(_fit, body)):
        return None
    known = set().union(*map(_binds, module.body)) | set(dir(builtins))  # noqa: F821 (kit.py)
    name = OBJECTIVE_NAME
    while name in known:
        name += "_"
    kept, candidates = [], [s for s in outer + before if _fit(s)]
    while True:
        source = _source(name, [*args, answer], kept + body)
        missing = _free_names(source) - known
        if not missing:
            return source
        found = next((s for s in reversed(candidates) if _binds(s) & missing), None)
        if found is None or _binds(found) & {*args, answer}:
            return None
        # What fills the name in after it is bound (`best[room] = ...` in a loop) comes too.
        changers = [s for s in candidates if _changes(s) & _binds(found)]
        if any(_binds(s) & {*args, answer} for s in changers):
            return None
        chosen = [found, *changers]
        candidates = [s for s in candidates if not any(s is c for c in chosen)]
        kept = [s for s in outer + before if any(s is k for k in [*kept, *chosen])]


def _source(name, params, statements):
    answer = params[-1]
    lines = [
        f"def {name}({', '.join(params)}):",
        f'    """The utility\'s score of one answer `{answer}`, from its own code: higher is better;',
        '    0.0 where the utility would reject the answer."""',
        "    try:",
    ]
    for statement in statements:
        code = ast.unparse(ast.fix_missing_locations(statement))
        lines += ["        " + line for line in code.splitlines()]
    lines += ["    except Exception:", "        return 0.0", "    return 0.0"]
    return "\n".join(lines) + "\n"
