"""Robust extraction of Python code from language-model responses.

Stdlib only: the improver harness ships this file into the sandbox, where it backs
`helpers.extract_code`, and the orchestrator uses it directly.

The naive rule (take the largest fenced block) breaks as soon as the code itself contains a
fence, as an improver's prompt does. We therefore consider every pair of an opening fence and a
later closing fence (plus a final block left open by a truncated response), and pick, in order of
preference: the longest block that parses and defines the expected function; the longest block
that parses; the longest block.
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
        if parses(block):
            return block
    return blocks[0] if blocks else ""


def extract_code(responses: object, entry: str | None = None) -> object:
    """The paper's helper: a list of responses gives a list of code strings, a string gives one."""
    if isinstance(responses, str):
        return extract_one(responses, entry)
    if isinstance(responses, list | tuple):
        return [extract_one(response, entry) for response in responses]
    return ""
