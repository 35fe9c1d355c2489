"""Diff-based edits: SEARCH/REPLACE blocks applied tolerantly (easier for small models).

A plain source file run inside the sandbox (never imported by selftaught). It uses only the
paper's improver API: `utility(program)`, `utility.budget`, `utility.uses`, `utility.str` and
`language_model.batch_prompt`, `.budget`, `.max_responses_per_call`. Stdlib only, self-contained.
"""

import ast
import math
import random
import re

try:  # the selftaught harness provides the robust extractor (it knows the expected function)
    from helpers import extract_code as _harness_extract
except ImportError:
    _harness_extract = None

#: True keeps the input among the candidates, so the result is never worse than the input (by the
#: utility). False is the paper's behaviour: only generated candidates compete.
KEEP_INPUT = True
#: A guard against endless loops when a budget is very large or unlimited.
MAX_ROUNDS = 40

EXPERTISE = (
    "You are an expert computer science researcher and programmer, "
    "with a particular talent for optimizing algorithms."
)
_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+.-]*)\s*$")


def _int(value, default=0):
    try:
        return int(value)
    except Exception:
        return default


def _parses(source):
    try:
        ast.parse(source)
    except Exception:
        return False
    return True


def _fallback_extract(text):
    """Every fenced block (nested fences included); the longest one that parses wins."""
    lines = text.splitlines()
    matches = [(i, _FENCE.match(line)) for i, line in enumerate(lines)]
    fences = [(i, m.group(1), m.group(2)) for i, m in matches if m]
    blocks = []
    for pos, (start, marker, _lang) in enumerate(fences):
        for end, other, lang in fences[pos + 1 :]:
            if other == marker and not lang:
                blocks.append("\n".join(lines[start + 1 : end]))
        blocks.append("\n".join(lines[start + 1 :]))
    if not fences:
        blocks.append(text)
    blocks = sorted((b.strip("\n") for b in blocks if b.strip()), key=len, reverse=True)
    for block in blocks:
        if _parses(block):
            return block
    return blocks[0] if blocks else ""


def salvage(code):
    """A reply cut off by the token limit: drop trailing top-level statements until it parses."""
    if not code or _parses(code):
        return code
    lines = code.splitlines()
    for end in range(len(lines) - 1, 0, -1):
        if lines[end][:1] not in ("", " ", "\t", "#", ")", "]", "}"):
            head = "\n".join(lines[:end]).rstrip()
            if head and _parses(head):
                return head
    return code


def extract(response):
    """The program in one response ('' when there is none); truncated code is salvaged."""
    if not isinstance(response, str):
        return ""
    code = None
    if _harness_extract is not None:
        try:
            code = _harness_extract(response)
        except Exception:
            code = None
    if not isinstance(code, str):
        code = _fallback_extract(response)
    return salvage(code)


class Budgets:
    """Both budgets counted locally, utility values cached, refusals turned into 'spent'.

    Nothing here can raise: a refused or failing call just ends the search, and the best program
    seen so far is returned.
    """

    def __init__(self, utility, language_model):
        self.utility = utility
        self.lm = language_model
        self.lm_start = _int(getattr(language_model, "budget", 0))
        self.uses_start = _int(getattr(utility, "uses", 0))
        self.lm_used = 0
        self.utility_used = 0
        self.lm_failures = 0
        self.lm_closed = False
        self.utility_closed = False
        self.scores = {}
        self.best = None
        self.best_score = None

    def lm_left(self):
        if self.lm_closed:
            return 0
        left = self.lm_start - self.lm_used
        return max(0, min(left, _int(getattr(self.lm, "budget", left), left)))

    def utility_left(self):
        if self.utility_closed:
            return 0
        budget = _int(getattr(self.utility, "budget", 0))
        uses = max(_int(getattr(self.utility, "uses", 0)), self.uses_start + self.utility_used)
        return max(0, budget - uses)

    def width(self):
        """How many responses one call may ask for."""
        return max(1, _int(getattr(self.lm, "max_responses_per_call", 1), 1))

    def ask(self, messages, temperature=0.7, expertise=EXPERTISE):
        """One LM call with one response per message; [] once the budget is spent."""
        messages = [m for m in messages if isinstance(m, str)][: self.width()]
        if not messages or self.lm_left() <= 0:
            return []
        temperature = min(2.0, max(0.0, float(temperature)))
        self.lm_used += 1  # counted even when refused: never risk going over
        try:
            responses = self.lm.batch_prompt(expertise, messages, temperature=temperature)
        except Exception as exc:
            self.lm_failures += 1
            if "budget" in str(exc).lower() or self.lm_failures >= 2:
                self.lm_closed = True
            return []
        return [r if isinstance(r, str) else "" for r in responses]

    def score(self, program, eligible=True):
        """The utility of `program` (cached); None when it cannot be scored any more."""
        if not isinstance(program, str) or not program.strip():
            return None
        key = program.strip()
        if key in self.scores:
            return self.scores[key]
        if self.utility_left() <= 0:
            return None
        try:
            value = float(self.utility(program))
        except Exception:
            self.utility_closed = True
            return None
        self.utility_used += 1
        if value != value:  # NaN
            value = 0.0
        self.scores[key] = value
        if eligible and (self.best_score is None or value > self.best_score):
            self.best, self.best_score = program, value
        return value

    def start(self, initial_solution):
        """Score the input (it competes unless KEEP_INPUT is False); its score or None."""
        if self.lm_left() <= 0:
            return None
        if self.utility_left() < 2:
            if KEEP_INPUT:  # no candidate could be shown to beat the input: do not ask the LM
                self.lm_closed = True
            return None
        return self.score(initial_solution, eligible=KEEP_INPUT)

    def result(self, initial_solution):
        """The best program seen; the input when nothing provably beat it."""
        if KEEP_INPUT and initial_solution.strip() not in self.scores:
            return initial_solution  # unscored input: no candidate can be shown to be better
        return self.best if self.best is not None else initial_solution


REPLY = (
    "Reply with one complete Python code block that defines the same function. "
    "Do not repeat the utility function."
)


def solution_message(solution, utility, task, reply=REPLY):
    """The common frame: the current program, its utility's description, one task."""
    text = getattr(utility, "str", "")
    return f"""Here is the current solution:
```python
{solution}
```

It will be scored by this utility function:
```python
{text}
```

{task}
{reply}"""


TEMPERATURE = 0.7
FUZZY_RATIO = 0.85  # how similar a block of lines must be to a SEARCH text to stand in for it
TASK = """Improve the solution by editing it. Describe your idea in one sentence, then give one or
more edits, each in exactly this form:
<<<<<<< SEARCH
lines copied exactly from the current solution
=======
the lines that replace them
>>>>>>> REPLACE
Keep each SEARCH part short and unique."""
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
    import difflib

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


def candidate(current, response):
    """The program a response describes: its edits applied, else a full program it contains."""
    edits = parse_edits(response)
    if edits:
        edited, applied = apply_edits(current, edits)
        if applied and _parses(edited):
            return edited
    code = extract(response)
    return code if code and _parses(code) and "<<<<<<<" not in code else ""


def improve_algorithm(initial_solution, utility, language_model):
    """Improve by SEARCH/REPLACE edits applied tolerantly to the best program so far."""
    budgets = Budgets(utility, language_model)
    budgets.start(initial_solution)
    for _ in range(MAX_ROUNDS):
        n = min(budgets.width(), budgets.utility_left())
        if n <= 0 or budgets.lm_left() <= 0:
            break
        current = budgets.best if budgets.best is not None else initial_solution
        message = solution_message(current, utility, TASK, reply="")
        responses = budgets.ask([message] * n, TEMPERATURE)
        if not responses:
            break
        for response in responses:
            budgets.score(candidate(current, response))
    return budgets.result(initial_solution)
