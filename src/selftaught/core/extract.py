"""Robust extraction of Python code from language-model responses.

Stdlib only: the improver harness ships this file into the sandbox, where it backs
`helpers.extract_code`, and the orchestrator uses it directly.

The naive rule (take the largest fenced block) breaks as soon as the code itself contains a
fence, as an improver's prompt does. We therefore consider every pair of an opening fence and a
later closing fence (plus a final block left open by a truncated response), and pick, in order of
preference: the longest block that parses and defines the expected function; the longest head
of a block cut off by the token limit that does (`salvage_cut_off`); the longest block that
parses; the longest salvaged head that defines some function; the longest block.
"""

from __future__ import annotations

import ast
import re
import textwrap

_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+.-]*)\s*$")


def _fence_lines(lines: list[str]) -> list[tuple[int, str, str]]:
    """(line index, fence marker, language tag) for every fence line."""
    found = []
    for index, line in enumerate(lines):
        match = _FENCE.match(line)
        if match:
            found.append((index, match.group(1), match.group(2)))
    return found


def candidate_blocks(text: str) -> list[str]:
    """Every code block the text could contain, nested fences included, longest first."""
    lines = text.splitlines()
    fences = _fence_lines(lines)
    blocks: list[str] = []
    for pos, (start, marker, _lang) in enumerate(fences):
        closers = [end for end, m, lang in fences[pos + 1 :] if m == marker and not lang]
        for end in closers:
            blocks.append("\n".join(lines[start + 1 : end]))
        # A response cut off by the token limit leaves its last block open.
        blocks.append("\n".join(lines[start + 1 :]))
    if not fences:
        blocks.append(text)
    cleaned = [textwrap.dedent(block).strip("\n") for block in blocks]
    unique = list(dict.fromkeys(block for block in cleaned if block.strip()))
    return sorted(unique, key=len, reverse=True)


def parses(source: str) -> bool:
    """True when `source` is syntactically valid Python."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def defines_function(source: str, name: str) -> bool:
    """True when `source` parses and defines a top-level function called `name`."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
        for node in tree.body
    )


def salvage_cut_off(block: str, entry: str | None = None) -> str | None:
    """The longest head of a cut-off block that parses (and defines `entry`, when given).

    A reply cut off by the token limit usually ends in a half-written statement after complete
    functions. The block is cut only before a top-level line (a new definition or statement), so
    every definition kept is whole: a function cut in the middle would parse and be wrong.
    """
    lines = block.splitlines()
    top_level = [i for i, line in enumerate(lines) if line[:1].strip() and i > 0]
    for end in reversed(top_level):
        head = "\n".join(lines[:end]).rstrip()
        if _keeps_a_function(head, entry):
            return head
    return None


def _keeps_a_function(source: str, entry: str | None) -> bool:
    """Parses and defines `entry`, or, with no entry given, at least one top-level function."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    return entry in names if entry else bool(names)


def extract_one(text: str, entry: str | None = None) -> str:
    """The best code block in one response (see the module docstring for the preference)."""
    if not isinstance(text, str):
        return ""
    blocks = candidate_blocks(text)
    if entry:
        for block in blocks:
            if defines_function(block, entry):
                return block
        for block in blocks:
            rescued = salvage_cut_off(block, entry)
            if rescued is not None:
                return rescued
    for block in blocks:
        if parses(block):
            return block
    for block in blocks:
        rescued = salvage_cut_off(block)
        if rescued is not None:
            return rescued
    return blocks[0] if blocks else ""


def extract_code(responses: object, entry: str | None = None) -> object:
    """The paper's helper: a list of responses gives a list of code strings, a string gives one."""
    if isinstance(responses, str):
        return extract_one(responses, entry)
    if isinstance(responses, list | tuple):
        return [extract_one(response, entry) for response in responses]
    return ""
