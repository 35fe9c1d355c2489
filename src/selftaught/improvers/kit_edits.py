"""The improver kit, part 3: SEARCH/REPLACE edits, parsed and applied tolerantly.

Stdlib only, shipped into the sandbox's `helpers` module after kit.py (see
`selftaught.core.session.helpers_source`). Small models rarely copy a SEARCH text exactly, so an
edit also applies when only indentation, trailing spaces or a few characters differ.
"""

import difflib
import re

#: How similar a block of lines must be to a SEARCH text to stand in for it.
FUZZY_RATIO = 0.85
_SEARCH = re.compile(r"^\s*<{5,}\s*SEARCH\s*$")
_DIVIDER = re.compile(r"^\s*={5,}\s*$")
_REPLACE = re.compile(r"^\s*>{5,}\s*(REPLACE)?\s*$")


def parse_edits(text):
    """[(search, replace)] from SEARCH/REPLACE blocks; a final block may lack its closing line."""
    edits, state, search, replace = [], None, [], []
    for line in text.splitlines():
        if _SEARCH.match(line):
            if state == "replace":
                edits.append(("\n".join(search), "\n".join(replace)))
            state, search, replace = "search", [], []
        elif state == "search" and _DIVIDER.match(line):
            state = "replace"
        elif state == "replace" and _REPLACE.match(line):
            edits.append(("\n".join(search), "\n".join(replace)))
            state = None
        elif state == "search":
            search.append(line)
        elif state == "replace":
            if line.strip().startswith("```") and not replace:
                continue
            replace.append(line)
    if state == "replace":
        while replace and replace[-1].strip().startswith("```"):
            replace.pop()
        edits.append(("\n".join(search), "\n".join(replace)))
    return [(s, r) for s, r in edits if s.strip()]


def _indent(line):
    return line[: len(line) - len(line.lstrip())]


def _reindent(lines, old, new):
    """Move `lines` from indentation `old` to `new` (the SEARCH text's vs. the source's)."""
    out = []
    for line in lines:
        if line.startswith(old):
            out.append(new + line[len(old) :] if line.strip() else line)
        else:
            out.append(new + line.lstrip() if line.strip() else line)
    return out


def _window(source_lines, search_lines):
    """(start, end) of the source lines matching `search_lines`, ignoring indentation; or None."""
    want = [line.strip() for line in search_lines]
    size = len(want)
    for start in range(len(source_lines) - size + 1):
        if [line.strip() for line in source_lines[start : start + size]] == want:
            return start, start + size
    best, best_ratio = None, FUZZY_RATIO
    target = "\n".join(want)
    for start in range(len(source_lines) - size + 1):
        text = "\n".join(line.strip() for line in source_lines[start : start + size])
        ratio = difflib.SequenceMatcher(None, text, target).ratio()
        if ratio > best_ratio:
            best, best_ratio = (start, start + size), ratio
    return best


def apply_edit(source, search, replace):
    """`source` with `search` replaced; tolerant of indentation, trailing spaces and small typos.

    Tries an exact match, then a line match ignoring indentation (the replacement is re-indented
    to the source), then the most similar block of lines. None when nothing matches.
    """
    if search in source:
        return source.replace(search, replace, 1)
    search_lines = [line.rstrip() for line in search.splitlines()]
    while search_lines and not search_lines[0].strip():
        search_lines.pop(0)
    while search_lines and not search_lines[-1].strip():
        search_lines.pop()
    if not search_lines:
        return None
    source_lines = source.splitlines()
    found = _window(source_lines, search_lines)
    if found is None:
        return None
    start, end = found
    new_lines = _reindent(
        replace.splitlines(), _indent(search_lines[0]), _indent(source_lines[start])
    )
    return "\n".join(source_lines[:start] + new_lines + source_lines[end:])


def apply_edits(source, edits):
    """(new source, number of edits applied); edits that match nothing are skipped."""
    applied = 0
    for search, replace in edits:
        result = apply_edit(source, search, replace)
        if result is not None:
            source, applied = result, applied + 1
    return source, applied
