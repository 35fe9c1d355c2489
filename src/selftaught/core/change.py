"""What an LM-written program changed, in plain words, derived from the two programs' syntax trees.

A line diff says how much changed; a reader of a run wants to know what the new improver does
differently: what it returns, which calls it makes how often, which settings and prompt sentences
changed. Each phrase comes from comparing the two trees, never from what the model claims.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections import Counter

#: Longest code fragment quoted in a phrase.
QUOTE = 60
#: What parsing or walking an LM-written program may raise (a hostile one nests deeply), as in
#: `core.feedback.same_program`: such a program gets no phrase rather than crashing the summary.
UNREADABLE = (SyntaxError, ValueError, MemoryError, RecursionError)


def behaviour_changes(old: str, new: str, entry: str) -> list[str]:
    """Short phrases saying how `new`'s function `entry` behaves differently from `old`'s.

    Empty when either does not parse or defines no `entry`, or when nothing below differs.
    """
    try:
        return _changes(old, new, entry)
    except UNREADABLE:
        return []


def program_changes(old: str, new: str, entry: str, limit: int = 3) -> list[str]:
    """`behaviour_changes`, or when those find nothing in two different programs, the changed
    lines themselves (`old line` -> `new line`, at most `limit`, then how many more)."""
    phrases = behaviour_changes(old, new, entry)
    if phrases or old.strip() == new.strip():
        return phrases
    pairs: list[str] = []
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        before = " / ".join(line.strip() for line in old.splitlines()[i1:i2]) or "(nothing)"
        after = " / ".join(line.strip() for line in new.splitlines()[j1:j2]) or "(nothing)"
        pairs.append(f"`{before[:QUOTE]}` -> `{after[:QUOTE]}`")
    extra = len(pairs) - limit
    return pairs[:limit] + ([f"and {extra} more changed place(s)"] if extra > 0 else [])


def _changes(old: str, new: str, entry: str) -> list[str]:
    before, after = _entry(old, entry), _entry(new, entry)
    if before is None or after is None:
        return []
    return [
        *_returns(before, after),
        *_new_text_picks(before, after),
        *_model_calls(before, after),
        *_calls(before, after),
        *_settings(before, after),
        *_prompt(before, after),
        *_functions(old, new),
    ]


def returns_its_input(source: str, entry: str) -> bool:
    """Whether every value `entry` returns is built from its first parameter alone (the input,
    unchanged or wrapped in text): then the function ignores everything else it was given (for
    an improver: the model's candidates and their scores)."""
    try:
        return _returns_its_input(source, entry)
    except UNREADABLE:
        return False


def _returns_its_input(source: str, entry: str) -> bool:
    fn = _entry(source, entry)
    if fn is None:
        return False
    from_input, total = _input_returns(fn)
    return total > 0 and from_input == total


def _input_returns(fn: ast.FunctionDef) -> tuple[int, int]:
    """(how many of `fn`'s returned values are built from its first parameter alone, how many
    values it returns)."""
    params = _params(fn)
    returns = _return_values(fn)
    if not params:
        return 0, len(returns)
    assigned = _assignments(fn)

    def from_input(value: ast.expr, seen: frozenset[str] = frozenset()) -> bool:
        if isinstance(value, ast.Name) and value.id in assigned and value.id != params[0]:
            if value.id in seen:  # a = b; b = a: built from nothing but itself
                return False
            inner = seen | {value.id}
            return all(from_input(v, inner) for v in assigned[value.id])
        return set(_names(value)) == {params[0]}

    return sum(1 for value in returns if from_input(value)), len(returns)


def _assignments(fn: ast.FunctionDef) -> dict[str, list[ast.expr]]:
    """Every value assigned to each plain variable in `fn`, in order."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    return assigned


def _params(fn: ast.FunctionDef) -> list[str]:
    return [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]


def _entry(source: str, entry: str) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(source)
    except UNREADABLE:
        return None
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry]
    return found[-1] if found else None


def _quote(node: ast.AST) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= QUOTE else text[: QUOTE - 3] + "..."


def _returns(before: ast.FunctionDef, after: ast.FunctionDef) -> list[str]:
    old, new = _returned(before), _returned(after)
    if old == new:
        return []
    now, was = " or ".join(new) or "nothing", " or ".join(old) or "nothing"
    return [*_keeps_input(before, after), f"returns {now} (was {was})"]


def _keeps_input(before: ast.FunctionDef, after: ast.FunctionDef) -> list[str]:
    """ "keeps its input" when `after`, unlike `before`, may hand back its input unchanged, yet
    still returns other values (an improver keeping the input among its candidates)."""
    kept_before, _ = _input_returns(before)
    kept, total = _input_returns(after)
    if kept_before or not kept or kept == total:
        return []
    return [f"keeps its input: may return `{_params(after)[0]}` instead of what it built"]


def _new_text_picks(before: ast.FunctionDef, after: ast.FunctionDef) -> list[str]:
    old = _text_picks(before)
    return [pick for pick in _text_picks(after) if pick not in old]


def _text_picks(fn: ast.FunctionDef) -> list[str]:
    """A returned `max(...)` or `min(...)` of the input and other values without `key=`: for an
    improver that picks between programs by their text (Python compares strings by their
    characters), not by their scores. The 1.5B model wrote `return max(initial_solution,
    best_solution)` for "return whichever scores higher", and the text of the input won."""
    params = _params(fn)
    if not params:
        return []
    assigned = _assignments(fn)
    values = [s for value in _return_values(fn) for s in _sources(value, assigned)]
    calls = (n for value in values for n in ast.walk(value) if isinstance(n, ast.Call))
    picks = [
        f"picks by text, not by score: `{_quote(call)}` has no `key=`"
        for call in calls
        if _is_text_pick(call, params[0])
    ]
    return list(dict.fromkeys(picks))


def _is_text_pick(call: ast.Call, first: str) -> bool:
    """Whether `call` is `max` or `min` without `key=` of `first` and other values."""
    names = _names(call)
    return (
        isinstance(call.func, ast.Name)
        and call.func.id in ("max", "min")
        and not any(k.arg == "key" for k in call.keywords)
        and first in names
        and len(set(names)) > 1
    )


def _returned(fn: ast.FunctionDef) -> list[str]:
    """Each returned expression, with the names its value is built from: the expression's own,
    or for a returned variable those of every assignment to it."""
    assigned = _assignments(fn)
    phrases = []
    for value in _return_values(fn):
        own = value.id if isinstance(value, ast.Name) else None
        sources = _sources(value, assigned)
        names = [n for n in dict.fromkeys(n for s in sources for n in _names(s)) if n != own]
        built = f" built from {', '.join(names)}" if names else ""
        phrases.append(f"`{_quote(value)}`{built}")
    return phrases


def _return_values(fn: ast.FunctionDef) -> list[ast.expr]:
    """Every expression `fn` returns, in walk order (a bare `return` has none)."""
    return [n.value for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None]


def _sources(value: ast.expr, assigned: dict[str, list[ast.expr]]) -> list[ast.expr]:
    """What a returned value is built from: a returned variable's every assigned value, else the
    value itself."""
    if isinstance(value, ast.Name) and value.id in assigned:
        return assigned[value.id]
    return [value]


def _names(node: ast.AST) -> list[str]:
    """Variables an expression reads (not the functions it calls)."""
    called = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    found = (n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in called)
    return list(dict.fromkeys(found))


def _calls(before: ast.FunctionDef, after: ast.FunctionDef) -> list[str]:
    """How often the function uses each of its parameters (its inputs: for an improver, the
    utility and the language model), when that changed."""
    params = _params(after)

    def uses(fn: ast.FunctionDef) -> Counter[str]:
        return Counter(n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id in params)

    old, new = uses(before), uses(after)
    return [
        f"uses `{name}` in {new[name]} place(s) (was {old[name]})"
        for name in params
        if old[name] != new[name]
    ]


#: The paper's language-model API: the methods an improver asks the model with.
MODEL_METHODS = ("batch_prompt", "prompt")


def _model_calls(before: ast.FunctionDef, after: ast.FunctionDef) -> list[str]:
    """How often the function asks the model, and at which temperatures, when the count changed
    (a changed temperature alone is one of `_settings`)."""

    def asks(fn: ast.FunctionDef) -> list[str]:
        calls = [
            node
            for node in ast.walk(fn)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MODEL_METHODS
        ]
        temperatures = []
        for call in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):  # in source order
            given = [k.value for k in call.keywords if k.arg == "temperature"]
            temperatures.append(ast.unparse(given[0]) if given else "the default")
        return temperatures

    old, new = asks(before), asks(after)
    if len(old) == len(new):
        return []
    where = f"asks the model in {len(new)} place(s) (was {len(old)})"
    return [f"{where}, at temperature {' then '.join(new)}" if new else where]


def _settings(before: ast.FunctionDef, after: ast.FunctionDef) -> list[str]:
    """Numbers passed by keyword (temperature=0.7) or assigned to a name (n = 4)."""

    def numbers(fn: ast.FunctionDef) -> dict[str, str]:
        found: dict[str, str] = {}
        for node in ast.walk(fn):
            if isinstance(node, ast.keyword) and node.arg and _is_number(node.value):
                found.setdefault(node.arg, ast.unparse(node.value))
            elif isinstance(node, ast.Assign) and _is_number(node.value):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, ast.unparse(node.value))
        return found

    old, new = numbers(before), numbers(after)
    changed = [name for name in old if old[name] != new.get(name, old[name])]
    return [f"{name} {old[name]} -> {new[name]}" for name in changed]


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _prompt(before: ast.FunctionDef, after: ast.FunctionDef) -> list[str]:
    """Sentences of string literals (the prompts an improver sends) that are new."""

    def sentences(fn: ast.FunctionDef) -> list[str]:
        texts = []
        for node in ast.walk(fn):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.append(node.value)
        found = re.split(r"(?<=[.!?:])\s+", " ".join(" ".join(texts).split()))
        return [s for s in found if len(s) > 3]

    old = set(sentences(before))
    added = [s for s in dict.fromkeys(sentences(after)) if s not in old]
    if not added:
        return []
    first = added[0] if len(added[0]) <= QUOTE else added[0][: QUOTE - 3] + "..."
    more = f" (+{len(added) - 1} more)" if len(added) > 1 else ""
    return [f'prompt text adds "{first}"{more}']


def _functions(old: str, new: str) -> list[str]:
    def names(source: str) -> list[str]:
        try:
            tree = ast.parse(source)
        except UNREADABLE:
            return []
        return [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]

    before, after = names(old), names(new)
    added = [name for name in dict.fromkeys(after) if name not in before]
    return [f"defines {', '.join(f'`{n}`' for n in added)}"] if added else []
