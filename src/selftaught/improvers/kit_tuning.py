"""The improver kit, part 2: tuning a program's numeric constants with the utility budget left.

Stdlib only, shipped into the sandbox's `helpers` module after kit.py (see
`selftaught.core.session.helpers_source`); `budgets` is the kit's `Budgets`.
"""

import ast


def _moved(value):
    """Two new values for a numeric constant, up then down: ints doubled and halved, fractions in
    (0, 1) moved halfway to 1 and to 0 (a probability, a cooling rate), other floats doubled and
    halved."""
    if type(value) is int:
        return (value * 2, int(value / 2))
    if 0.0 < value < 1.0:
        return ((1.0 + value) / 2, value / 2)
    return (value * 2, value / 2)


def _tunable(value):
    """0, 1 and -1 are left alone: they are starts, steps and signs, not settings (`_numbers`
    lists no booleans)."""
    return value != 0 and not (type(value) is int and abs(value) < 2)


def _numbers(program, fixed=()):
    """(lines, every one-line numeric constant in source order), or None when it does not parse.
    Untunable ones are listed too, so that a constant keeps its index when a move makes it 1.
    Top-level functions named in `fixed` are left out."""
    try:
        tree = ast.parse(program)
    except Exception:  # also MemoryError/RecursionError on hostile input
        return None
    kept = [s for s in tree.body if not (isinstance(s, ast.FunctionDef) and s.name in fixed)]
    numbers = [
        n
        for n in ast.walk(ast.Module(body=kept, type_ignores=[]))
        if isinstance(n, ast.Constant) and type(n.value) in (int, float)
        and n.lineno == n.end_lineno
    ]  # fmt: skip
    numbers.sort(key=lambda n: (n.lineno, n.col_offset))
    return program.splitlines(keepends=True), numbers


def _replaced(lines, node, new):
    raw = lines[node.lineno - 1].encode()  # ast offsets count UTF-8 bytes
    line = (raw[: node.col_offset] + repr(new).encode() + raw[node.end_col_offset :]).decode()
    return "".join(lines[: node.lineno - 1]) + line + "".join(lines[node.lineno :])


def _move(found, index, direction):
    """The program (`_numbers`) with its index-th numeric constant moved up (direction 0) or
    down (1) by `_moved`; None where that is impossible or changes nothing."""
    lines, numbers = found
    if index >= len(numbers) or not _tunable(numbers[index].value):
        return None
    node = numbers[index]
    new = _moved(node.value)[direction]
    return None if new == node.value else _replaced(lines, node, new)


def constant_variants(program):
    """Programs that differ from `program` in one numeric constant (`_moved`), in source order.
    Booleans, 0, 1 and -1 are left alone (numbers in strings and docstrings are not constants);
    so is anything in a program that does not parse."""
    found = _numbers(program)
    if found is None:
        return []
    variants = (_move(found, i, direction) for i in range(len(found[1])) for direction in (0, 1))
    return [variant for variant in variants if variant is not None]


def _climb(budgets, found, current, index, tried, fixed=()):
    """Move the index-th constant of the parsed program (`_numbers`) up while the score rises,
    or else down. Returns the parsed program and score reached, and whether the utility budget
    ran out."""
    for direction in (0, 1):
        moved = False
        while found is not None:
            variant = _move(found, index, direction)
            if variant is None or variant.strip() in tried:
                break
            tried.add(variant.strip())
            value = budgets.score(variant)
            if value is None:
                return found, current, True
            if value <= current:
                break
            found, current, moved = _numbers(variant, fixed), value, True
        if moved:
            break
    return found, current, False


def tune_constants(budgets, program, fixed=()):
    """Coordinate search over `program`'s numeric constants with the utility budget that is left.
    Each constant in turn is moved up, or else down (`_moved`), and kept moving that way while
    the score rises (1000 steps -> 2000 -> 4000, until the time limit bites); then the next
    constant; passes repeat while one gained. A small model's copies and near-copies of a program
    are where this finds what sampling did not (more steps, another rate). The best program seen
    is kept by `budgets`, as for any candidate. The constants of the top-level functions named in
    `fixed` are left alone: copies of the utility's own code (its objective, its helpers) judge
    answers, and changing how the program judges them only spends the budget."""
    current = budgets.score(program)
    if current is None:
        return
    tried, found, start = {program.strip()}, _numbers(program, fixed), None
    while found is not None and start != current:
        start = current
        for index in range(len(found[1])):
            found, current, spent = _climb(budgets, found, current, index, tried, fixed)
            if spent:
                return
