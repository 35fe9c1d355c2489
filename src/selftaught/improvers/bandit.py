"""Multi-armed prompt bandit: UCB1 chooses among instruction variants.

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


EXPLORATION = 1.0  # the UCB1 exploration constant
TEMPERATURE = 0.8
ARMS = (
    "Make the algorithm smarter: use a better-suited algorithmic idea for this problem.",
    "Make the algorithm faster, so it can do more useful work within the time limit.",
    "Fix bugs and handle edge cases so that no input makes it fail or return a wrong shape.",
    "Rewrite it from scratch with a completely different approach.",
    "Tune it: make one small careful change (a parameter, a heuristic, a stopping rule).",
)


def ucb(count, reward_sum, pulls, exploration=EXPLORATION):
    """UCB1 value of an arm: mean reward plus an exploration bonus; unpulled arms come first."""
    if count <= 0:
        return math.inf
    return reward_sum / count + exploration * math.sqrt(2.0 * math.log(max(pulls, 1)) / count)


def choose_arms(counts, sums, k, exploration=EXPLORATION):
    """The k pulls of one round, highest UCB first (ties to the lower index).

    Pulls within one round are planned as if each chosen arm had been pulled once more with its
    current mean reward, so a round does not spend all its pulls on one unexplored arm.
    """
    counts, sums = list(counts), list(sums)
    chosen = []
    for _ in range(k):
        pulls = sum(counts)
        values = [ucb(c, s, pulls, exploration) for c, s in zip(counts, sums)]
        arm = max(range(len(values)), key=lambda i: (values[i], -i))
        chosen.append(arm)
        mean = sums[arm] / counts[arm] if counts[arm] else 0.0
        counts[arm] += 1
        sums[arm] += mean
    return chosen


def improve_algorithm(initial_solution, utility, language_model):
    """A multi-armed bandit over prompt variants: UCB1 picks which instruction to send.

    An arm's reward is the utility of the program it produced (0 when it produced none).
    """
    budgets = Budgets(utility, language_model)
    budgets.start(initial_solution)
    counts, sums = [0] * len(ARMS), [0.0] * len(ARMS)
    for _ in range(MAX_ROUNDS):
        n = min(budgets.width(), budgets.utility_left())
        if n <= 0 or budgets.lm_left() <= 0:
            break
        parent = budgets.best if budgets.best is not None else initial_solution
        arms = choose_arms(counts, sums, n)
        messages = [solution_message(parent, utility, ARMS[arm]) for arm in arms]
        responses = budgets.ask(messages, TEMPERATURE)
        if not responses:
            break
        for arm, response in zip(arms, responses):
            score = budgets.score(extract(response))
            counts[arm] += 1
            sums[arm] += score if score is not None else 0.0
    return budgets.result(initial_solution)
