"""Program sources and diffs as HTML, syntax-highlighted with pygments when it is installed.

Highlighting uses CSS classes under `.hl` with the rules embedded once in the page (`style_css`),
rather than a style attribute on every token: a run holds hundreds of programs, and per-token
styles would multiply the page's size several times. Without pygments, code is shown escaped and
uncoloured.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from html import escape

try:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import DiffLexer, PythonLexer
except ImportError:  # pragma: no cover - pygments comes with rich
    highlight = None

CSS_CLASS = "hl"
STYLE = "friendly"


@dataclass(frozen=True)
class DiffStats:
    """Lines added and removed between two sources, and top-level functions gained or lost."""

    added: int
    removed: int
    new_functions: tuple[str, ...]
    dropped_functions: tuple[str, ...]

    @property
    def unchanged(self) -> bool:
        return self.added == 0 and self.removed == 0


def style_css() -> str:
    """The stylesheet the highlighted blocks need (empty without pygments)."""
    if highlight is None:
        return ""
    return str(HtmlFormatter(style=STYLE, cssclass=CSS_CLASS).get_style_defs(f".{CSS_CLASS}"))


def _plain(text: str) -> str:
    return f'<div class="{CSS_CLASS}"><pre>{escape(text)}</pre></div>'


def python_html(source: str) -> str:
    """A Python source as a highlighted HTML block."""
    if highlight is None:
        return _plain(source)
    formatter = HtmlFormatter(style=STYLE, cssclass=CSS_CLASS, linenos="inline")
    return str(highlight(source, PythonLexer(), formatter))


def unified_diff(old: str, new: str, old_name: str = "parent", new_name: str = "this") -> str:
    """A unified diff of two sources ('' when they are equal)."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=old_name,
        tofile=new_name,
        n=3,
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def diff_html(old: str, new: str, old_name: str = "parent", new_name: str = "this") -> str:
    """The unified diff as a highlighted HTML block; a short note when nothing changed."""
    text = unified_diff(old, new, old_name, new_name)
    if not text:
        return '<p class="muted">Identical to its parent.</p>'
    if highlight is None:
        return _plain(text)
    return str(highlight(text, DiffLexer(), HtmlFormatter(style=STYLE, cssclass=CSS_CLASS)))


def _functions(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def only_layout_changed(old: str, new: str) -> bool:
    """True when two different sources differ only in whitespace and blank lines."""

    def squash(text: str) -> list[str]:
        return ["".join(line.split()) for line in text.splitlines() if line.strip()]

    return old != new and squash(old) == squash(new)


def diff_stats(old: str, new: str) -> DiffStats:
    """How much `new` differs from `old`."""
    added = removed = 0
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), n=0, lineterm=""):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    before, after = _functions(old), _functions(new)
    return DiffStats(
        added,
        removed,
        tuple(f for f in dict.fromkeys(after) if f not in before),
        tuple(f for f in dict.fromkeys(before) if f not in after),
    )


#: Words in added lines that name a known improvement strategy (the paper's list and ours).
STRATEGY_WORDS = {
    "beam": "beam search",
    "genetic": "genetic algorithm",
    "crossover": "genetic algorithm",
    "mutat": "mutation",
    "anneal": "simulated annealing",
    "bandit": "bandit over prompts",
    "ucb": "upper confidence bound",
    "temperature": "temperature changes",
    "decompos": "decomposition",
    "cache": "utility cache",
    "error": "error feedback",
    "retry": "retries",
}


def strategy_hints(old: str, new: str) -> list[str]:
    """Strategies that lines added in `new` mention (a hint, from words in the code)."""
    added = [
        line[1:].lower()
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), n=0, lineterm="")
        if line.startswith("+") and not line.startswith("+++")
    ]
    text = "\n".join(added)
    return list(dict.fromkeys(name for word, name in STRATEGY_WORDS.items() if word in text))
