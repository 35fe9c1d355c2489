"""Refine: hill-climb from the best program; one concrete tactic per sample.

A plain source file run in the sandbox: stdlib, and the paper's improver API with its one extension
(`batch_prompt`'s `reply_starts`, which models without it ignore). The search
strategy is all here; the shared plumbing comes from the sandbox's `helpers` module (kit.py).

Written for small models, which answer "improve this" with a copy of what they were shown: each
sample gets a different, concrete tactic that works for any program (a local search on the
answer, a faster inner loop, restarts, a stronger classic algorithm, tuned constants) and the
current score. A candidate that calls a helper of the utility it was shown gets that helper's
definition. The utility budget the LM's candidates leave tunes the best program's numeric
constants.

The utility is shown by its docstring, not its code (`UTILITY_CODE = False`, `described_utility`):
small models copied the scorer's variables and calls to `utility` into their programs, where
nothing of the utility is in scope. A utility without a describing docstring is shown whole.

`CONTINUE_STEPS = True` in a copy makes the local-search and restart tactics' replies continue the
program: each starts inside it, just before its entry function's final `return`, with a comment
opening the step (`continuation`, kit_continue.py), so the step is written where the answer is in
scope instead of as a helper nothing calls. It is off: with the embedded 1.5B model such replies
were valid 2 times in 30 (they compute the objective with the utility's names), and beat the
original on val no more often than rewrites (docs/small-models.md).

`VERSION_EVERY = n` in a copy starts every n-th tactic reply below the program, whose entry is
renamed `<entry>_v0`, as a new version of the entry (`versioned_start`, FunSearch's prompt). It is
off: with the embedded 1.5B model such replies were new code and mostly broken (33% valid on four
task files against 62%), with no more gains (docs/small-models.md).

Repairs (a failed candidate sent back with the utility's error, `utility.last_error`) are off:
with the embedded 1.5B model a repair sample beat the original less often than a tactic sample
(docs/small-models.md). `MAX_REPAIRS = 2` in a copy turns them on, for models that repair well.
"""

from helpers import (
    KEEP_INPUT,
    MAX_ROUNDS,
    Budgets,
    add_utility_helpers,
    close_step,
    continuation,
    described_utility,
    extract,
    solution_message,
    tune_constants,
    versioned_start,
)

TEMPERATURE = 0.8
REPAIR_TEMPERATURE = 0.4
MAX_REPAIRS = 0  # repair attempts along one line of descent (0: every sample is a tactic)
TIME = "stop at half the CPU time limit of the runtime contract (check time.process_time())"
TACTICS = (
    "Keep the current approach, then add a local search at the end: repeatedly try one small "
    "change to the answer (flip, swap or move one element), keep the change when the answer "
    "gets better, judged by the objective computed in the program itself (the utility is not "
    f"available to it), and {TIME}.",
    "Replace the core heuristic with a stronger classic algorithm for this kind of problem, "
    "written from scratch with the allowed modules. If the space of answers is small enough, "
    "search it exhaustively.",
    "Make the current approach faster: compute each value once and update it incrementally "
    "instead of recomputing it, avoid repeated scans of the input, and spend the time saved on "
    f"more steps or restarts; {TIME}.",
    "Tune the numeric constants, thresholds, step counts and orderings of the current approach "
    "so that it scores higher.",
    "Run the construction several times with different random choices or orders and return the "
    "best answer found, judged by the objective computed in the program itself (the utility is "
    f"not available to it); {TIME}.",
)
CONTINUE_STEPS = False
#: Every VERSION_EVERY-th sample (0: none) starts its reply below the program, whose entry is
#: renamed `<entry>_v0`, with a new version's header and a docstring naming the tactic
#: (`versioned_start`, FunSearch's prompt); the other samples start at the entry's head.
VERSION_EVERY = 0
#: The tactics (by index), as a new version's docstring names them.
VERSION_NOTES = (
    "a local search on its answer",
    "a stronger classic algorithm",
    "faster",
    "tuned constants",
    "the best of several randomized runs",
)
#: False shows the utility's docstring in place of its code (`described_utility`); True, its code.
UTILITY_CODE = False
#: With CONTINUE_STEPS, tactics whose reply continues the program with this step (index -> step).
STEPS = {
    0: "local search: repeatedly try one small change to the answer (flip, swap or move one "
    "element) and keep it when the objective computed here gets better; " + TIME,
    4: "restarts: build the answer again several times with different random choices or "
    "orders, and keep the best one by the objective computed here; " + TIME,
}


def shown(utility):
    text = getattr(utility, "str", "")
    return text if UTILITY_CODE else described_utility(text)


def tactic_message(program, score, utility, tactic):
    scored = "" if score is None else f"It scores {score:.4f} on the utility (higher is better). "
    task = f"{scored}Improve it this way:\n{tactic}"
    return solution_message(program, utility, task, utility_text=shown(utility))


def repair_message(program, error, utility):
    task = f"This version fails: {error}.\nFind the cause and fix it; keep the idea."
    return solution_message(program, utility, task, utility_text=shown(utility))


def reply_start(program, turn):
    """The text the reply of the `turn`-th tactic sample continues, or None: its usual start."""
    tactic = turn % len(TACTICS)
    step = STEPS.get(tactic) if CONTINUE_STEPS else None
    if step:
        return continuation(program, step)
    if VERSION_EVERY > 0 and turn % VERSION_EVERY == VERSION_EVERY - 1:
        return versioned_start(program, VERSION_NOTES[tactic])
    return None


def failure_of(utility, score, start):
    """The utility's error for the last call, or a zero-score note; None when it worked."""
    error = getattr(utility, "last_error", None)
    if error:
        return str(error)[:800]
    if score <= 0.0 and (start or 0.0) > 0.0:
        return "it scored 0: it raised an exception, ran out of time or returned a wrong answer"
    return None


def improve_algorithm(initial_solution, utility, language_model):
    """Each round: repair up to half a batch of fresh failures, and ask for the rest of the batch
    a rewrite of the best program so far, each with the next tactic in turn. When the LM budget
    is spent, the utility budget left hill-climbs the best program's numeric constants."""
    budgets = Budgets(utility, language_model, KEEP_INPUT)
    start = budgets.start(initial_solution)
    failures = []  # (program, error, repairs so far), newest last
    turn = 0
    for _ in range(MAX_ROUNDS):
        n = min(budgets.width(), budgets.utility_left())
        if n <= 0 or budgets.lm_left() <= 0:
            break
        parent = budgets.best if budgets.best is not None else initial_solution
        score = budgets.best_score if budgets.best is not None else start
        repairs, failures = failures[-(n // 2) :] if n > 1 else [], []
        messages = [repair_message(p, e, utility) for p, e, _ in repairs]
        tries = [t + 1 for _, _, t in repairs]
        starts = [None] * len(messages)
        while len(messages) < n:
            messages.append(tactic_message(parent, score, utility, TACTICS[turn % len(TACTICS)]))
            starts.append(reply_start(parent, turn))
            tries.append(0)
            turn += 1
        temperature = REPAIR_TEMPERATURE if len(repairs) == n else TEMPERATURE
        responses = budgets.ask(messages, temperature, starts=starts)
        if not responses:
            break
        for response, tried, begun in zip(responses, tries, starts):
            reply = close_step(response, parent) if begun else response
            code = add_utility_helpers(extract(reply), utility)
            value = budgets.score(code)
            if value is None:
                continue
            error = failure_of(utility, value, start)
            if error is not None and tried < MAX_REPAIRS:
                failures.append((code, error, tried))
    if budgets.best is not None:  # the utility budget left tunes the best program's constants
        tune_constants(budgets, budgets.best)
    return budgets.result(initial_solution)
