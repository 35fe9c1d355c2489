"""The improver kit, part 2: tuning a program's numeric constants with the utility budget left.

Stdlib only, shipped into the sandbox's `helpers` module after kit.py (see
`selftaught.core.session.helpers_source`); `budgets` is the kit's `Budgets`.
"""

import ast


def _moved(value):
    """Two new values for a numeric constant: ints doubled and halved, fractions in (0, 1) moved
    halfway to 1 and to 0 (a probability, a cooling rate), other floats doubled and halved."""
    if type(value) is int:
        return (value * 2, int(value / 2))
    if 0.0 < value < 1.0:
        return ((1.0 + value) / 2, value / 2)
    return (value * 2, value / 2)


def constant_variants(program):
    """Programs that differ from `program` in one numeric constant (`_moved`), in source order.
    Booleans, 0, 1 and -1 are left alone (numbers in strings and docstrings are not constants);
    so is anything in a program that does not parse."""
    try:
        tree = ast.parse(program)
    except Exception:  # also MemoryError/RecursionError on hostile input
        return []
    lines, out = program.splitlines(keepends=True), []
    numbers = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and type(n.value) in (int, float)
        and n.lineno == n.end_lineno and not (type(n.value) is int and abs(n.value) < 2)
        and n.value != 0
    ]  # fmt: skip
    for node in sorted(numbers, key=lambda n: (n.lineno, n.col_offset)):
        raw = lines[node.lineno - 1].encode()  # ast offsets count UTF-8 bytes
        for new in _moved(node.value):
            if new == node.value:
                continue
            line = (
                raw[: node.col_offset] + repr(new).encode() + raw[node.end_col_offset :]
            ).decode()
            out.append("".join(lines[: node.lineno - 1]) + line + "".join(lines[node.lineno :]))
    return out


def tune_constants(budgets, program):
    """Hill-climb `program`'s numeric constants with the utility budget that is left: score its
    `constant_variants`, move to the first that scores higher, repeat from there. A small model's
    copies and near-copies of a program are where this finds what sampling did not (more steps,
    another rate). The best program seen is kept by `budgets`, as for any candidate."""
    current = budgets.score(program)
    if current is None:
        return
    tried = {program.strip()}
    moved = True
    while moved and budgets.utility_left() > 0:
        moved = False
        for variant in constant_variants(program):
            if variant.strip() in tried:
                continue
            tried.add(variant.strip())
            value = budgets.score(variant)
            if value is None:
                return
            if value > current:
                program, current, moved = variant, value, True
                break
