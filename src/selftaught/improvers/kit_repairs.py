"""The improver kit: mechanical repairs of two mistakes small models make in code that parses.

Stdlib only, and part of the sandbox's `helpers` module (after kit.py, see
`selftaught.core.session.KIT_PATHS`); the kit's `extract` applies `repair_known_mistakes` to every
candidate. Each repair changes a candidate only where its code cannot mean anything else, edits
the text in place (comments and layout stay) and leaves code it cannot parse as it is:

- `rename_shadowed_versions`: a model asked to build on a program writes a second `algorithm`
  that calls `algorithm`, meaning the first; Python binds the name to the last definition, so the
  call recurses until RecursionError. Each earlier version gets a name of its own.
- `list_for_numpy_generators`: `np.sum(x for x in xs)` is a TypeError since numpy 2, and
  `np.max`, `np.any`, ... of a generator silently return the generator or True. Models learned
  these calls from numpy 1 code; the generator becomes a list.
"""

import ast

NUMPY_MODULE = "numpy"


def _replace_spans(code, edits):
    """`code` with each (line, start column, end column, text) replaced; columns are UTF-8 byte
    offsets on one line, as `ast` gives them. Later edits on a line are applied first."""
    lines = code.splitlines(keepends=True)
    for lineno, start, end, text in sorted(edits, reverse=True):
        raw = lines[lineno - 1].encode("utf-8")
        lines[lineno - 1] = (raw[:start] + text.encode("utf-8") + raw[end:]).decode("utf-8")
    return "".join(lines)


def _parse(code):
    try:
        return ast.parse(code)
    except Exception:  # also MemoryError/RecursionError on hostile input
        return None


def _def_name_span(code_lines, node):
    """(line, start, end) of the name in a `def name(` header, as UTF-8 byte offsets."""
    raw = code_lines[node.lineno - 1].encode("utf-8")
    start = raw.find(b"def", node.col_offset) + len(b"def")
    while raw[start : start + 1] in (b" ", b"\t"):
        start += 1
    return node.lineno, start, start + len(node.name.encode("utf-8"))


def _loads_of(name, statements):
    return [
        node
        for statement in statements
        for node in ast.walk(statement)
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)
    ]


def rename_shadowed_versions(code):
    """`code` with each earlier version of a top-level function that is defined again renamed
    (`algorithm` -> `algorithm_v1`), when code written after it uses the name. The uses in the
    statements after it, up to and including the next version, are renamed with it: that is the
    version they were written against (the first version's own uses too, its recursion). A
    function defined once, and an earlier version nothing uses, are left alone."""
    tree = _parse(code)
    if tree is None:
        return code
    body = tree.body
    versions = {}
    for index, node in enumerate(body):
        if isinstance(node, ast.FunctionDef):
            versions.setdefault(node.name, []).append(index)
    taken = set().union(*_bound_and_loaded(tree))  # noqa: F821 (kit.py, earlier in helpers)
    code_lines = code.splitlines()
    edits = []
    for name, indexes in versions.items():
        for number, (this, following) in enumerate(zip(indexes, indexes[1:]), start=1):
            first = this if number == 1 else this + 1  # a later version's uses mean the one before
            uses = _loads_of(name, body[first : following + 1])
            if not uses:
                continue
            new = f"{name}_v{number}"
            while new in taken:
                new += "_"
            taken.add(new)
            edits.append((*_def_name_span(code_lines, body[this]), new))
            edits += [(u.lineno, u.col_offset, u.end_col_offset, new) for u in uses]
    return _replace_spans(code, edits) if edits else code


def _numpy_aliases(tree):
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == NUMPY_MODULE
    }


def list_for_numpy_generators(code):
    """`code` with every generator passed as the first argument of a numpy function made a list:
    `np.sum(x * x for x in xs)` -> `np.sum([x * x for x in xs])`."""
    tree = _parse(code)
    if tree is None:
        return code
    aliases = _numpy_aliases(tree)
    edits = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in aliases
            and node.args
            and isinstance(node.args[0], ast.GeneratorExp)
        ):
            continue
        generator = node.args[0]
        text = ast.get_source_segment(code, generator) or ""
        if text[:1] + text[-1:] == "()":  # its own parentheses, or the call's
            start, end = generator.col_offset + 1, generator.end_col_offset - 1
            edits += [(generator.lineno, start, start, "["), (generator.end_lineno, end, end, "]")]
    return _replace_spans(code, edits) if edits else code


def repair_known_mistakes(code):
    """`code` with both mechanical repairs applied (see the module's docstring)."""
    return list_for_numpy_generators(rename_shadowed_versions(code))
