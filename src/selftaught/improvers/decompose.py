"""Decompose-and-improve-parts: improve a program one top-level function at a time.

A plain source file run in the sandbox, stdlib and the paper's improver API only. The search
strategy is all here; the shared plumbing comes from the sandbox's `helpers` module (kit.py).
"""

import ast

from helpers import KEEP_INPUT, MAX_ROUNDS, Budgets, _parses, extract, solution_message

TEMPERATURE = 0.7
SPLIT = (
    "Restructure the solution into a main function plus two to four small helper functions, "
    "each doing one clear step, and improve each step as you go. Keep the main function's "
    "name and signature."
)


def top_level_parts(source):
    """(name, first line, last line) of every top-level function and class, 1-based, inclusive.

    Decorators belong to their function. [] when the source does not parse.
    """
    try:
        tree = ast.parse(source)
    except Exception:
        return []
    parts = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            parts.append((node.name, first, node.end_lineno))
    return parts


def replace_part(source, name, new_code):
    """`source` with its top-level `name` replaced by the definition of `name` in `new_code`.

    None when either side lacks that definition or the result does not parse.
    """
    old = {n: (a, b) for n, a, b in top_level_parts(source)}
    new = {n: (a, b) for n, a, b in top_level_parts(new_code)}
    if name not in old or name not in new:
        return None
    lines, new_lines = source.splitlines(), new_code.splitlines()
    a, b = old[name]
    c, d = new[name]
    merged = "\n".join(lines[: a - 1] + new_lines[c - 1 : d] + lines[b:])
    return merged if _parses(merged) else None


def part_message(program, name, utility):
    text = getattr(utility, "str", "")
    return f"""Here is a program:
```python
{program}
```

It is scored by this utility function:
```python
{text}
```

Improve only the function `{name}` so that the program scores higher. Keep its name and
signature. Reply with one Python code block containing just the new `{name}`."""


def improve_algorithm(initial_solution, utility, language_model):
    """Decompose the program into parts (functions) and improve the parts one at a time.

    A program with a single function is first split into helpers by the LM. Each round asks for
    a new version of each part; the best single-part change is adopted when it helps, and the
    improved parts of one round are also tried together.
    """
    budgets = Budgets(utility, language_model, KEEP_INPUT)
    start = budgets.start(initial_solution)
    current, current_score = initial_solution, start if start is not None else 0.0
    if len(top_level_parts(current)) < 2 and budgets.lm_left() >= 2:
        n = min(budgets.width(), budgets.utility_left())
        for response in budgets.ask([solution_message(current, utility, SPLIT)] * n, TEMPERATURE):
            code = extract(response)
            score = budgets.score(code)
            if score is not None and len(top_level_parts(code)) >= 2 and score >= current_score:
                current, current_score = code, score
    for _ in range(MAX_ROUNDS):
        names = [name for name, _, _ in top_level_parts(current)]
        n = min(budgets.width(), budgets.utility_left())
        if not names or n <= 0 or budgets.lm_left() <= 0:
            break
        chosen = [names[i % len(names)] for i in range(n)]
        responses = budgets.ask([part_message(current, m, utility) for m in chosen], TEMPERATURE)
        if not responses:
            break
        gains = {}
        for name, response in zip(chosen, responses):
            merged = replace_part(current, name, extract(response))
            score = budgets.score(merged) if merged else None
            if score is not None and score > current_score and score > gains.get(name, (-1,))[0]:
                gains[name] = (score, merged, extract(response))
        if not gains:
            continue
        best_name = max(gains, key=lambda m: gains[m][0])
        combined = current
        for name in gains:
            combined = replace_part(combined, name, gains[name][2]) or combined
        current, current_score = gains[best_name][1], gains[best_name][0]
        if len(gains) > 1:
            score = budgets.score(combined)
            if score is not None and score > current_score:
                current, current_score = combined, score
    return budgets.result(initial_solution)
