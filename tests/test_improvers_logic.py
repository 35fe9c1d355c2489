"""Pure logic of the reference improvers: SEARCH/REPLACE application, bandit arithmetic,
annealing schedule, decomposition, self-debug diagnosis and the shared budget bookkeeping.

The improvers are plain source files; these tests execute the shipped (trusted) files in a fresh
namespace and call their helper functions. Model text used here comes from the real recordings.
"""

from __future__ import annotations

import json
import math
import random
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from selftaught.core.session import helpers_source
from selftaught.errors import ConfigError
from selftaught.improvers.catalog import get_improver, list_improvers, resolve_improver

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings"
SOLUTION = "def algorithm(x):\n    return x\n"


def load(name: str) -> dict[str, Any]:
    """The improver's namespace, with `helpers` built from the source the sandbox receives."""
    helpers = types.ModuleType("helpers")
    exec(compile(helpers_source(), "helpers.py", "exec"), helpers.__dict__)
    namespace: dict[str, Any] = {"__name__": "improver"}
    saved = sys.modules.get("helpers")
    sys.modules["helpers"] = helpers
    try:
        exec(compile(get_improver(name).source(), f"{name}.py", "exec"), namespace)
    finally:
        if saved is None:
            sys.modules.pop("helpers", None)
        else:
            sys.modules["helpers"] = saved
    return namespace


def real_responses() -> list[str]:
    texts = []
    for path in sorted(RECORDINGS.glob("improvers_*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


# -- catalog ----------------------------------------------------------------------------------
def test_catalog_lists_eleven_improvers_each_defining_improve_algorithm() -> None:
    infos = list_improvers()
    assert infos[0].name == "seed" and len(infos) == 11
    for info in infos:
        assert "def improve_algorithm(initial_solution, utility, language_model" in info.source()
        assert info.description


def test_resolve_improver_names_paths_and_errors(tmp_path: Path) -> None:
    assert resolve_improver("beam")[0] == "beam"
    path = tmp_path / "mine.py"
    path.write_text("def improve_algorithm(s, u, l):\n    return s\n")
    assert resolve_improver(str(path)) == ("mine", path.read_text())
    with pytest.raises(ConfigError, match="valid: seed, beam"):
        resolve_improver("nope")
    with pytest.raises(ConfigError, match="not found"):
        resolve_improver(str(tmp_path / "missing.py"))


@pytest.mark.parametrize("name", [i.name for i in list_improvers() if i.name != "seed"])
def test_improvers_are_stdlib_only(name: str) -> None:
    import ast
    import sys

    tree = ast.parse(get_improver(name).source())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported - {"helpers"} <= set(sys.stdlib_module_names)


@pytest.mark.parametrize("name", [i.name for i in list_improvers() if i.name != "seed"])
def test_truncated_replies_are_salvaged(name: str) -> None:
    ns = load(name)
    cut = '```python\ndef algorithm(x):\n    return x + 1\n\ndef utility(s):\n    """Scores'
    assert ns["extract"](cut) == "def algorithm(x):\n    return x + 1"
    salvage = ns["extract"].__globals__["salvage"]  # the kit's, which `extract` calls
    assert salvage("def f(:\n") == "def f(:\n"  # nothing parses: left as it is
    assert ns["extract"]("no code at all") == "no code at all"


# -- SEARCH/REPLACE ---------------------------------------------------------------------------
DIFF = load("diff_edits")
EDITS = DIFF["parse_edits"].__globals__  # the kit's kit_edits part, shared with evolve
SOURCE = (
    "def algorithm(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n"
)


def test_parse_edits_reads_blocks_and_an_unclosed_last_block() -> None:
    text = (
        "Idea: start at one.\n<<<<<<< SEARCH\n    total = 0\n=======\n    total = 1\n"
        ">>>>>>> REPLACE\n\n<<<<<<<< SEARCH\n    return total\n========\n    return -total\n"
    )
    assert DIFF["parse_edits"](text) == [
        ("    total = 0", "    total = 1"),
        ("    return total", "    return -total"),
    ]
    assert DIFF["parse_edits"]("no edits here") == []


def test_apply_edit_exact_indentation_tolerant_fuzzy_and_missing() -> None:
    apply = EDITS["apply_edit"]
    assert "total = 1" in apply(SOURCE, "    total = 0", "    total = 1")
    # SEARCH written without indentation: matched by content, replacement re-indented
    shifted = apply(SOURCE, "for x in xs:\n    total += x", "for x in xs:\n    total += 2 * x")
    assert "    for x in xs:\n        total += 2 * x\n" in shifted
    # a small typo in SEARCH still finds the most similar block of lines
    fuzzy = apply(SOURCE, "    for x in xs:\n        totl += x", "    total = sum(xs)")
    assert fuzzy == "def algorithm(xs):\n    total = 0\n    total = sum(xs)\n    return total"
    assert apply(SOURCE, "while True:\n    pass", "x = 1") is None


def test_apply_edits_counts_applied_and_skips_unmatched() -> None:
    edits = [
        ("    total = 0", "    total = 1"),
        ("nothing like this", "x"),
        ("return total", "return 0"),
    ]
    new, applied = DIFF["apply_edits"](SOURCE, edits)
    assert applied == 2 and "total = 1" in new and "return 0" in new


def test_candidate_falls_back_to_a_full_program() -> None:
    response = "Here it is:\n```python\ndef algorithm(xs):\n    return sum(xs)\n```\n"
    assert DIFF["candidate"](SOURCE, response) == "def algorithm(xs):\n    return sum(xs)"
    assert DIFF["candidate"](SOURCE, "<<<<<<< SEARCH\nnot there\n=======\nx\n>>>>>>> REPLACE") == ""


# -- bandit -----------------------------------------------------------------------------------
BANDIT = load("bandit")


def test_ucb1_arithmetic() -> None:
    ucb = BANDIT["ucb"]
    assert ucb(0, 0.0, 10) == math.inf
    assert ucb(2, 1.0, 8, 1.0) == pytest.approx(0.5 + math.sqrt(2 * math.log(8) / 2))
    assert ucb(4, 2.0, 8, 0.0) == pytest.approx(0.5)


def test_choose_arms_explores_unpulled_arms_then_exploits() -> None:
    choose = BANDIT["choose_arms"]
    assert choose([0, 0, 0], [0.0, 0.0, 0.0], 2) == [0, 1]
    # every arm pulled once: a high mean wins when the exploration bonus is equal
    assert choose([1, 1, 1], [0.1, 0.9, 0.5], 1) == [1]
    # a rarely pulled arm's bonus beats a slightly better mean
    assert choose([10, 1], [6.0, 0.5], 1) == [1]


# -- annealing, temperature sweep, beam, genetic --------------------------------------------
def test_annealing_acceptance_and_schedule() -> None:
    ns = load("annealing")
    assert ns["accept_probability"](0.05, 0.1) == 1.0
    assert ns["accept_probability"](-0.1, 0.1) == pytest.approx(math.exp(-1))
    assert ns["accept_probability"](-0.1, 0.0) == 0.0
    hot, cold = ns["LM_TEMPERATURES"]
    assert ns["lm_temperature"](0, 3) == hot and ns["lm_temperature"](2, 3) == pytest.approx(cold)
    assert ns["lm_temperature"](1, 3) == pytest.approx((hot + cold) / 2)


def test_temperature_sweep_spread_and_best() -> None:
    ns = load("temperature_sweep")
    values = (0.2, 0.6, 1.0, 1.4)
    assert ns["spread"](values, 1) == [1.0]
    assert ns["spread"](values, 2) == [0.2, 1.4]
    assert ns["spread"](values, 9) == list(values)
    assert ns["best_temperature"]({0.2: [0.1, 0.3], 1.0: [0.4], 1.4: []}) == 1.0
    assert ns["best_temperature"]({}) is None


def test_beam_and_population_keep_the_best_distinct_programs() -> None:
    beam = load("beam")["next_beam"]
    assert beam([(0.5, "a")], [(0.7, "b"), (0.7, "b\n"), (0.1, "c")], 2) == [(0.7, "b"), (0.5, "a")]
    genetic = load("genetic")
    assert genetic["survivors"]([(0.2, "a"), (0.9, "b"), (0.9, "b ")], 5) == [
        (0.9, "b"),
        (0.2, "a"),
    ]
    population = [(0.1, "a"), (0.9, "b")]
    picks = {genetic["tournament"](population, random.Random(s))[1] for s in range(30)}
    assert "b" in picks  # the better one wins any tournament it enters
    messages = genetic["offspring_messages"](
        population, 6, type("U", (), {"str": "u"})(), random.Random(1)
    )
    assert len(messages) == 6 and any("Solution B" in m for m in messages)


# -- decomposition and self-debug -------------------------------------------------------------
def test_decompose_parts_and_replacement() -> None:
    ns = load("decompose")
    source = (
        "import math\n\n@staticmethod\ndef helper(x):\n    return x\n\n"
        "def algorithm(x):\n    return helper(x)\n"
    )
    assert ns["top_level_parts"](source) == [("helper", 3, 5), ("algorithm", 7, 8)]
    new = ns["replace_part"](source, "helper", "```\ndef helper(x):\n    return 2 * x\n")
    assert new is None  # a reply that does not parse is refused
    new = ns["replace_part"](source, "helper", "def helper(x):\n    return 2 * x")
    assert "return 2 * x" in new and "@staticmethod" not in new and "return helper(x)" in new
    assert ns["replace_part"](source, "missing", "def missing():\n    pass") is None


def test_self_debug_diagnosis() -> None:
    ns = load("self_debug")
    assert ns["entry_of"]("def helper(a):\n    pass\ndef algorithm(a, b, c):\n    pass") == (
        "algorithm",
        3,
    )
    diagnose = ns["diagnose"]
    assert diagnose("", "algorithm", 3) == "the reply contained no code block"
    assert diagnose("def algorithm(a, b, c)\n    pass", "algorithm", 3).startswith("SyntaxError")
    assert "does not define" in diagnose("def other(a, b, c):\n    pass", "algorithm", 3)
    assert "takes 1 parameters" in diagnose("def algorithm(a):\n    pass", "algorithm", 3)
    assert diagnose("def algorithm(*args):\n    pass", "algorithm", 3) is None
    assert diagnose("def algorithm(a, b, c):\n    return a", "algorithm", 3) is None


# -- budgets: every improver stops gracefully and never returns a worse program ---------------
class FakeUtility:
    """Scores by a fixed rule; raises once its budget is spent (as the proxy does)."""

    str = "def utility(algorithm_str): ..."

    def __init__(self, budget: int) -> None:
        self.budget, self.uses = budget, 0

    def __call__(self, program: str) -> float:
        if self.uses >= self.budget:
            raise RuntimeError("utility budget exhausted")
        self.uses += 1
        return min(1.0, len(set(program.split())) / 100)


class ReplayedLM:
    """Answers with real recorded model responses in turn; raises once its budget is spent."""

    def __init__(self, budget: int, width: int = 3) -> None:
        self.budget, self.max_responses_per_call, self.calls = budget, width, 0
        self.texts = real_responses()

    def batch_prompt(
        self, expertise: str, messages: list[str], temperature: float = 0.7
    ) -> list[str]:
        if self.budget <= 0:
            raise RuntimeError("language-model budget exhausted")
        assert len(messages) <= self.max_responses_per_call and 0 <= temperature <= 2
        self.budget -= 1
        self.calls += 1
        out = [self.texts[(self.calls * 7 + i) % len(self.texts)] for i in range(len(messages))]
        return out


NAMES = [info.name for info in list_improvers() if info.name != "seed"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("u_budget", "lm_budget"), [(8, 3), (1, 3), (25, 0), (3, 9)])
def test_budgets_respected_and_never_worse(name: str, u_budget: int, lm_budget: int) -> None:
    if not real_responses():
        pytest.skip("no recordings")
    ns = load(name)
    utility, lm = FakeUtility(u_budget), ReplayedLM(lm_budget)
    before = FakeUtility(1)(SOLUTION)
    result = ns["improve_algorithm"](SOLUTION, utility, lm)
    assert isinstance(result, str)
    assert utility.uses <= u_budget and lm.calls <= lm_budget
    assert FakeUtility(1)(result) >= before
    if u_budget < 2 or lm_budget == 0:
        assert result == SOLUTION and lm.calls == 0  # nothing could be shown to be better


def test_paper_behaviour_flag_may_return_a_worse_candidate() -> None:
    if not real_responses():
        pytest.skip("no recordings")
    ns = load("beam")
    ns["KEEP_INPUT"] = False

    def utility(program: str) -> float:
        return 1.0 if program == SOLUTION else 0.0

    utility.budget, utility.uses, utility.str = 10, 0, "u"  # type: ignore[attr-defined]
    result = ns["improve_algorithm"](SOLUTION, utility, ReplayedLM(1))
    assert result != SOLUTION  # the input no longer competes


def test_modules_a_program_uses_without_importing_them_are_imported() -> None:
    kit = load("refine")
    fix = kit["extract"].__globals__["add_missing_imports"]
    # the commonest crash of 1.5B candidates: `time`/`np` used, never imported
    code = "def algorithm(x):\n    t = time.process_time()\n    return np.zeros(x), Counter(), t\n"
    fixed = fix(code)
    assert fixed.splitlines()[:3] == [
        "from collections import Counter",
        "import numpy as np",
        "import time",
    ]
    namespace: dict[str, Any] = {}
    exec(fixed, namespace)
    assert namespace["algorithm"](2)[0].shape == (2,)
    # bound names (a parameter called `time`, an import under an alias) are left alone
    kept = "import numpy\ndef algorithm(time, random=None):\n    return time + numpy.pi\n"
    assert fix(kept) == kept
    future = (
        "from __future__ import annotations\ndef algorithm():\n    return heapq.nlargest(1, [])"
    )
    assert fix(future).splitlines()[:2] == ["from __future__ import annotations", "import heapq"]
    assert fix("def algorithm(:") == "def algorithm(:"  # unparsable: untouched
    # extract applies it to a reply's code block
    reply = "```python\ndef algorithm():\n    return math.pi\n```"
    assert kit["extract"](reply).startswith("import math\n")


SWEEP = '''def algorithm(items):
    """Docstring numbers stay: 1000 steps."""
    steps, rate, flag = 1000, 0.9, True
    for _ in range(steps):
        rate *= 0.99
    return [x * 1 for x in items][:2]
'''


def test_constant_variants_move_one_number_at_a_time() -> None:
    variants = load("refine")["extract"].__globals__["constant_variants"](SWEEP)
    changed = [
        next(line for line in v.splitlines() if line not in SWEEP.splitlines()) for v in variants
    ]
    assert changed == [
        "    steps, rate, flag = 2000, 0.9, True",
        "    steps, rate, flag = 500, 0.9, True",
        "    steps, rate, flag = 1000, 0.95, True",  # a fraction moves halfway to 1 and to 0
        "    steps, rate, flag = 1000, 0.45, True",
        "        rate *= 0.995",
        "        rate *= 0.495",
        "    return [x * 1 for x in items][:4]",  # 1, True and the docstring's 1000 stay
        "    return [x * 1 for x in items][:1]",
    ]
    assert load("refine")["extract"].__globals__["constant_variants"]("def f(:\n 2") == []


def test_refine_tunes_the_best_programs_constants_with_the_utility_left() -> None:
    ns = load("refine")

    def utility(program: str) -> float:  # rewards more steps, as a longer search would
        if "steps, rate, flag = " not in program:
            return 0.0  # the replayed model's candidates (other programs)
        namespace: dict[str, Any] = {}
        exec(program, namespace)
        steps = int(program.split("steps, rate, flag = ")[1].split(",")[0])
        return min(steps, 8000) / 10000 if namespace["algorithm"]([3, 4]) else 0.0

    utility.budget, utility.uses, utility.str = 12, 0, "u"  # type: ignore[attr-defined]
    result = ns["improve_algorithm"](SWEEP, utility, ReplayedLM(0))
    assert result == SWEEP  # no LM budget: nothing is asked, nothing is tuned (kept input)
    result = ns["improve_algorithm"](SWEEP, utility, ReplayedLM(1, width=1))
    # after the one LM call, the utility budget left doubles the steps while that pays: 8000
    assert "steps, rate, flag = 8000, 0.9, True" in result


def test_refine_starts_every_nth_reply_as_a_new_version_below_the_program() -> None:
    ns = load("refine")
    program = "def algorithm(xs):\n    return xs\n"
    ns["OFFER_UNJUDGED"] = True  # every tactic in turn, objective or not
    assert ns["VERSION_EVERY"] == 0 and ns["reply_start"](program, 1) is None  # off by default
    ns["VERSION_EVERY"] = 2
    assert ns["reply_start"](program, 0) is None and ns["reply_start"](program, 2) is None
    start = ns["reply_start"](program, 1)  # turn 1: the second tactic, a classic algorithm
    assert start.startswith("def algorithm_v0(xs):\n    return xs\n\n\ndef algorithm(xs):\n")
    assert start.endswith(
        '"""Improved version of `algorithm_v0`: a stronger classic algorithm."""\n'
    )
    assert "tuned constants" in ns["reply_start"](program, 3)
    assert len(ns["VERSION_NOTES"]) == len(ns["TACTICS"])


def test_refines_continued_steps_name_the_objective_on_the_programs_own_names() -> None:
    ns = load("refine")
    objective = "def objective(points, tour):\n    return -len(tour)\n"
    program = "def algorithm(coords):\n    return list(range(len(coords)))\n"
    assert ns["CONTINUE_STEPS"] is False and ns["reply_start"](program, 0, objective) is None
    ns["CONTINUE_STEPS"] = True
    named = ns["named_return"](program, objective)
    start = ns["reply_start"](named, 0, objective)
    assert "    tour = list(range(len(coords)))\n" in start
    assert "one small change to `tour`" in start and "when objective(coords, tour) gets" in start
    assert "objective(coords, tour) is highest" in ns["reply_start"](named, 4, objective)
    # without an objective the step keeps its general wording; other tactics are not continued
    ns["OFFER_UNJUDGED"] = True
    assert "the objective computed here" in ns["reply_start"](named, 0, "")
    assert ns["reply_start"](named, 1, objective) is None


def test_refine_offers_tactics_that_judge_answers_only_with_an_objective() -> None:
    ns = load("refine")
    judged = [i for i, tactic in enumerate(ns["TACTICS"]) if ns["JUDGED"] in tactic]
    assert judged == [0, 4]  # local search and restarts
    assert ns["tactic_order"]("def objective(xs, ys):\n    return 0.0\n") == (0, 1, 2, 3, 4)
    assert ns["tactic_order"]("") == (1, 2, 3)
    ns["OFFER_UNJUDGED"] = True
    assert ns["tactic_order"]("") == (0, 1, 2, 3, 4)


def test_refines_local_search_replies_start_inside_a_loop_bounded_by_the_time_limit() -> None:
    ns = load("refine")
    objective = "def objective(points, tour):\n    return -len(tour)\n"
    program = "def algorithm(coords):\n    tour = list(range(len(coords)))\n    return tour\n"
    contract = "# - Limits per call: 0.5 s of CPU time, 512 MiB of memory"
    seconds = ns["search_seconds"](types.SimpleNamespace(str=contract))
    assert seconds == pytest.approx(0.5 * ns["SEARCH_SHARE"])
    start = ns["reply_start"](program, 0, objective, seconds)
    assert "best_value = objective(coords, tour)\n" in start
    assert (
        "while time.process_time() < stop_at:\n        candidate = copy.deepcopy(tour)\n" in start
    )
    # other tactics, no objective, or no time limit: the usual start
    assert ns["reply_start"](program, 1, objective, seconds) is None
    assert ns["reply_start"](program, 0, objective, None) is None
    ns["SEARCH_STEPS"] = False
    assert ns["reply_start"](program, 0, objective, seconds) is None


class Budgeted:
    """A utility that counts its calls; scores a program by `measure` of its source."""

    def __init__(self, budget: int, measure: Any) -> None:
        self.budget, self.uses, self.str, self.measure, self.seen = budget, 0, "u", measure, []

    def __call__(self, program: str) -> float:
        assert self.uses < self.budget
        self.uses += 1
        self.seen.append(program)
        return self.measure(program)


def test_tuning_keeps_moving_a_constant_that_pays_before_trying_the_others_again() -> None:
    kit = load("refine")["extract"].__globals__
    program = "def algorithm():\n    a, b, steps = 0.5, 3.0, 1000\n    return steps\n"

    def measure(source: str) -> float:  # only the steps matter, up to 8000
        steps = int(source.split("= ")[1].split(", ")[2].split("\n")[0])
        return min(steps, 8000) / 10000

    # 1 (the program) + a and b up and down (4) + steps to 2000, 4000, 8000, then 16000 (no
    # gain): 9 calls reach 8000. Going back to the first constant after each gain, as a
    # restarted search does, spends 4 more calls per doubling and stops at 2000 here.
    utility = Budgeted(9, measure)
    budgets = kit["Budgets"](utility, types.SimpleNamespace(budget=0))
    kit["tune_constants"](budgets, program)
    assert budgets.best_score == 0.8 and "0.5, 3.0, 8000" in budgets.best
    assert utility.uses == 9
    # with budget to spare it stops by itself: a second pass finds nothing new (a, b again)
    utility = Budgeted(100, measure)
    budgets = kit["Budgets"](utility, types.SimpleNamespace(budget=0))
    kit["tune_constants"](budgets, program)
    assert budgets.best_score == 0.8 and utility.uses == 13
    assert len(set(utility.seen)) == len(utility.seen)  # no program is scored twice


def test_tuning_moves_down_when_up_does_not_pay_and_ignores_unparsable_programs() -> None:
    kit = load("refine")["extract"].__globals__
    program = "def algorithm():\n    return 0.8\n"
    utility = Budgeted(20, lambda source: 1 - float(source.split("return ")[1]))
    budgets = kit["Budgets"](utility, types.SimpleNamespace(budget=0))
    kit["tune_constants"](budgets, program)
    # 0.8 -> 0.9 is worse; halving pays each time until the budget is spent
    assert "return 0.8" not in budgets.best and budgets.best_score > 0.99
    assert utility.uses == 20
    utility = Budgeted(5, lambda source: 1.0)
    kit["tune_constants"](kit["Budgets"](utility, types.SimpleNamespace(budget=0)), "def f(:\n 2")
    assert utility.uses == 1  # scored as given, nothing to move


def test_tuning_leaves_the_utilitys_own_functions_copied_into_the_program_alone() -> None:
    kit = load("refine")["extract"].__globals__
    judge = "def objective(xs, n):\n    return 1.0 if n <= 40 else 0.5\n"
    program = f"def algorithm(xs):\n    return 20\n\n\n{judge}"
    shown = types.SimpleNamespace(str="def utility(s):\n    return 0.0\n")
    # the unchanged copy of the shown objective is the utility's; an edited one is the program's
    assert kit["utility_copies"](program, shown, judge) == {"objective"}
    assert kit["utility_copies"](program.replace("40", "80"), shown, judge) == set()
    assert kit["utility_copies"]("def f(:", shown, judge) == set()
    utility = Budgeted(50, lambda source: 0.5)
    budgets = kit["Budgets"](utility, types.SimpleNamespace(budget=0))
    kit["tune_constants"](budgets, program, {"objective"})
    # only the program's 20 moves (up, down); the objective's 40, 1.0 and 0.5 are never tried
    assert utility.uses == 3 and all("n <= 40 else 0.5" in seen for seen in utility.seen)
    utility = Budgeted(50, lambda source: 0.5)
    kit["tune_constants"](kit["Budgets"](utility, types.SimpleNamespace(budget=0)), program)
    assert utility.uses > 3  # without it the objective's constants are moved too


# -- helpers of the shown utility -----------------------------------------------------------
def test_helpers_of_the_shown_utility_that_a_candidate_calls_are_appended() -> None:
    from selftaught.tasks import get_task
    from selftaught.tasks.contract import shown_utility_text

    kit = load("refine")["extract"].__globals__

    class Shown:  # str_grid_dist's utility defines the helper grid_dist beside utility
        str = shown_utility_text(get_task("str_grid_dist"))

    code = "def algorithm(t, dist):\n    return t if grid_dist(t, t) == dist else t[::-1]\n"
    fixed = kit["add_utility_helpers"](code, Shown())
    assert fixed.startswith(code) and "\ndef grid_dist(s: str, t: str) -> int:\n" in fixed
    namespace: dict[str, Any] = {}
    exec(fixed, namespace)
    assert namespace["algorithm"]("AB", 0) == "BA"  # grid_dist("AB", "AB") is 2
    # the utility itself is never appended; code defining its own grid_dist keeps it
    calls_utility = "def algorithm(t, dist):\n    return utility(t)\n"
    assert kit["add_utility_helpers"](calls_utility, Shown()) == calls_utility
    own = "def grid_dist(s, t):\n    return 0\n" + code
    assert kit["add_utility_helpers"](own, Shown()) == own


# -- the utility shown by its docstring --------------------------------------------------------
DESCRIBED = '''import random

def helper(x):
    return x + 1

def utility(algorithm_str: str) -> float:
    """Scores algorithm(x), which must return helper(x) for a random int x; 1.0 when it does,
    0.0 otherwise, including an exception or a timeout of one second."""
    exec(algorithm_str, globals())
    secret = random.randint(0, 9)
    return float(algorithm(secret) == helper(secret))


# the runtime contract follows
'''


def test_the_utility_is_described_by_its_docstring_and_keeps_its_helpers() -> None:
    kit = load("refine")["extract"].__globals__
    shown = kit["described_utility"](DESCRIBED)
    assert "secret" not in shown and "exec(" not in shown  # the scorer's code is left out
    assert "def helper(x):\n    return x + 1" in shown and "# the runtime contract" in shown
    assert kit["CODE_LEFT_OUT"] in shown and "0.0 otherwise" in shown
    namespace: dict[str, Any] = {}
    exec(shown, namespace)  # still a program: the stop strings and the helpers still apply
    assert namespace["utility"]("") is None


@pytest.mark.parametrize(
    "text",
    [
        "def utility(algorithm_str):\n    exec(algorithm_str, globals())\n    return 1.0\n",
        'def utility(algorithm_str):\n    """Scores it."""\n    exec(algorithm_str, globals())\n',
        "def utility(algorithm_str):\n    return 1.0 if (\n",  # does not parse
    ],
    ids=["no docstring", "a short docstring", "unparsable"],
)
def test_a_utility_without_a_description_is_shown_whole(text: str) -> None:
    kit = load("refine")["extract"].__globals__
    assert kit["described_utility"](text) == text


def test_refine_shows_the_docstring_unless_told_to_show_the_code() -> None:
    ns = load("refine")

    class Shown:
        str = DESCRIBED

    message = ns["tactic_message"]("def algorithm(x):\n    return x\n", 0.5, Shown(), "Be bold.")
    assert "secret" not in message and "0.0 otherwise" in message
    ns["UTILITY_CODE"] = True
    message = ns["tactic_message"]("def algorithm(x):\n    return x\n", 0.5, Shown(), "Be bold.")
    assert "secret = random.randint(0, 9)" in message


@pytest.mark.parametrize("name", [i.name for i in list_improvers()])
def test_improvers_import_only_what_they_use(name: str) -> None:
    import ast

    tree = ast.parse(get_improver(name).source())
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert imported <= used, f"{name} imports but never uses {sorted(imported - used)}"
