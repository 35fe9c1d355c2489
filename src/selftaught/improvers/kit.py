"""The improver kit: the plumbing every reference improver shares (selftaught improver library).

Stdlib only. It is not imported by selftaught: the orchestrator appends this file's text to the
sandbox's `helpers` module (after the code extractor, see `selftaught.core.session.helpers_source`),
so an improver running in the sandbox writes `from helpers import Budgets, extract, ...`.

It provides code extraction with truncation repair (`extract`, `salvage`), the repair of names a
candidate uses without defining them (`add_missing_imports`, `add_utility_helpers`), budget
bookkeeping with a utility cache (`Budgets`), the system prompt (`EXPERTISE`) and the common
prompt frame (`solution_message`, `REPLY`), and the defaults `KEEP_INPUT` and `MAX_ROUNDS`. The
kit's other parts follow it in `helpers`: constant tuning (kit_tuning.py), SEARCH/REPLACE edits
(kit_edits.py) and the repair of two known mistakes (kit_repairs.py). An improver's own search
strategy stays in its own file. The improvers use only the paper's improver API:
`utility(program)`, `utility.budget`, `utility.uses`, `utility.str` and
`language_model.batch_prompt`, `.budget`, `.max_responses_per_call`.
"""

import ast
import builtins
import importlib.util
import re
import sys

#: True keeps the input among the candidates, so the result is never worse than the input (by the
#: utility). False is the paper's behaviour: only generated candidates compete. An improver imports
#: it and passes it to `Budgets`; assigning `KEEP_INPUT = False` in an improver overrides it there.
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


#: Names small models use without importing them, beyond the modules' own names.
FROM_IMPORTS = {
    "np": "import numpy as np",
    "defaultdict": "from collections import defaultdict",
    "Counter": "from collections import Counter",
    "deque": "from collections import deque",
    "heappush": "from heapq import heappush",
    "heappop": "from heapq import heappop",
    "heapify": "from heapq import heapify",
    "combinations": "from itertools import combinations",
    "permutations": "from itertools import permutations",
    "product": "from itertools import product",
    "lru_cache": "from functools import lru_cache",
    "reduce": "from functools import reduce",
}


def _bound_and_loaded(tree):
    bound, loaded = set(dir(builtins)), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound |= set(node.names)
    return bound, loaded


def _import_line(name):
    line = FROM_IMPORTS.get(name)
    if (
        line is None
        and name in getattr(sys, "stdlib_module_names", ())
        and not name.startswith("_")
    ):
        line = f"import {name}"
    module = line.split()[1] if line else None
    try:
        return line if module and importlib.util.find_spec(module) is not None else None
    except Exception:
        return None


def add_missing_imports(code):
    """`code` with an import added for each module (or well-known stdlib function) it uses but
    never imports: the commonest crash of small models' programs (NameError: time, math, np)."""
    try:
        tree = ast.parse(code)
    except Exception:  # also MemoryError/RecursionError on hostile input: leave it as it is
        return code
    bound, loaded = _bound_and_loaded(tree)
    lines = sorted({_import_line(n) for n in loaded - bound} - {None})
    if not lines:
        return code
    head = tree.body[0] if tree.body else None
    if isinstance(head, ast.ImportFrom) and head.module == "__future__":
        rest = code.splitlines()
        at = head.end_lineno
        return "\n".join(rest[:at] + lines + rest[at:])
    return "\n".join(lines) + "\n" + code


def _shown_code(utility, more=""):
    """The utility's text, with `more` (further functions shown with it) after it."""
    return (getattr(utility, "str", "") or "") + (f"\n\n{more}" if more else "")


def add_utility_helpers(code, utility, more=""):
    """`code` with the helper functions it calls from the utility's text appended (a utility's
    own `grid_dist`, say, but never the utility itself): small models call what they were shown,
    though the program runs without the utility in scope. Helpers those helpers call come too.
    `more` is source of further helpers shown with the utility (`derived_objective`)."""
    text = _shown_code(utility, more)
    try:
        shown = ast.parse(text)
        tree = ast.parse(code)
    except Exception:  # also MemoryError/RecursionError on hostile input
        return code
    helpers = {
        node.name: node
        for node in shown.body
        if isinstance(node, ast.FunctionDef) and not node.name.endswith("utility")
    }
    bound, loaded = _bound_and_loaded(tree)
    wanted, added = sorted((loaded - bound) & set(helpers)), []
    while wanted:
        name = wanted.pop(0)
        if name in bound:
            continue
        bound.add(name)
        added.append(ast.get_source_segment(text, helpers[name]))
        wanted += sorted(_bound_and_loaded(helpers[name])[1] & set(helpers) - bound)
    if not added:
        return code
    return add_missing_imports(code.rstrip() + "\n\n\n" + "\n\n\n".join(added) + "\n")


def utility_copies(code, utility, more=""):
    """The names of `code`'s top-level functions that are the utility's own, unchanged (what
    `add_utility_helpers` appended, `more` included): code that judges answers, not that finds
    them."""
    text = _shown_code(utility, more)
    try:
        shown, tree = ast.parse(text), ast.parse(code)
    except Exception:  # also MemoryError/RecursionError on hostile input
        return set()
    own = {n.name: ast.dump(n) for n in shown.body if isinstance(n, ast.FunctionDef)}
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    return {n.name for n in functions if own.get(n.name) == ast.dump(n)}


def extract(response):
    """The program in one response ('' when there is none); truncated code is salvaged, modules
    it uses without importing them are imported (`add_missing_imports`), and two known mistakes
    are repaired (`repair_known_mistakes`, kit_repairs.py)."""
    if not isinstance(response, str):
        return ""
    try:  # the harness's robust extractor, defined earlier in this module (it knows the entry)
        code = extract_code(response)  # noqa: F821
    except Exception:  # also NameError, when this file is used on its own
        code = None
    if not isinstance(code, str):
        code = _fallback_extract(response)
    return repair_known_mistakes(add_missing_imports(salvage(code)))  # noqa: F821 (kit_repairs)


class Budgets:
    """Both budgets counted locally, utility values cached, refusals turned into 'spent'.

    Nothing here can raise: a refused or failing call just ends the search, and the best program
    seen so far is returned.
    """

    def __init__(self, utility, language_model, keep_input=True):
        self.utility = utility
        self.keep_input = keep_input
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

    def ask(self, messages, temperature=0.7, expertise=EXPERTISE, starts=None):
        """One LM call with one response per message; [] once the budget is spent. `starts`:
        per message, the text its reply continues, or None (`continuation`, kit_continue.py)."""
        starts = list(starts) if isinstance(starts, (list, tuple)) else []
        pairs = [
            (m, starts[i] if i < len(starts) and isinstance(starts[i], str) else None)
            for i, m in enumerate(messages)
            if isinstance(m, str)
        ][: self.width()]
        if not pairs or self.lm_left() <= 0:
            return []
        messages = [m for m, _ in pairs]
        options = {"temperature": min(2.0, max(0.0, float(temperature)))}
        if any(start is not None for _, start in pairs):
            options["reply_starts"] = [start for _, start in pairs]
        self.lm_used += 1  # counted even when refused: never risk going over
        try:
            try:
                responses = self.lm.batch_prompt(expertise, messages, **options)
            except TypeError:  # a model without the extension: plain replies
                if "reply_starts" not in options:
                    raise
                del options["reply_starts"]
                responses = self.lm.batch_prompt(expertise, messages, **options)
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
        """Score the input (it competes unless keep_input is False); its score or None."""
        if self.lm_left() <= 0:
            return None
        if self.utility_left() < 2:
            if self.keep_input:  # no candidate could be shown to beat the input: do not ask the LM
                self.lm_closed = True
            return None
        return self.score(initial_solution, eligible=self.keep_input)

    def result(self, initial_solution):
        """The best program seen; the input when nothing provably beat it."""
        if self.keep_input and initial_solution.strip() not in self.scores:
            return initial_solution  # unscored input: no candidate can be shown to be better
        return self.best if self.best is not None else initial_solution


REPLY = (
    "Reply with one complete Python code block that defines the same function. "
    "Do not repeat the utility function."
)


#: Stands for the scorer's code that `described_utility` leaves out.
CODE_LEFT_OUT = (
    "    # (its code is left out here: the docstring above says what it checks and scores)\n"
)
#: A utility function's docstring shorter than this does not stand in for its code.
MIN_DESCRIPTION = 80


def described_utility(text):
    """The utility's text with the body of each utility function cut to its docstring, when that
    docstring is a description (MIN_DESCRIPTION characters or more); helpers, imports and anything
    else stay. Small models copy the scorer's code into their programs (its variables, its
    sampling, calls to `utility` itself), which is not in scope when a program runs; the
    docstring tells them what the code would. Text that does not parse comes back unchanged."""
    try:
        tree = ast.parse(text)
    except Exception:  # also MemoryError/RecursionError on hostile input
        return text
    lines, cuts = text.splitlines(keepends=True), []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.endswith("utility"):
            continue
        doc = ast.get_docstring(node)
        if doc and len(doc) >= MIN_DESCRIPTION and len(node.body) > 1:
            cuts.append((node.body[0].end_lineno, node.end_lineno))
    for kept, end in reversed(cuts):
        lines[kept:end] = [CODE_LEFT_OUT]
    return "".join(lines)


def solution_message(solution, utility, task, reply=REPLY, utility_text=None):
    """The common frame: the current program, its utility's description, one task.
    `utility_text` replaces the utility's own text (`described_utility`, say)."""
    text = getattr(utility, "str", "") if utility_text is None else utility_text
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
