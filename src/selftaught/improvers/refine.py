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

Below it comes the utility's score of one answer as a function, `objective(<the entry's
arguments>, <answer>)`, cut from the utility's own code (`OBJECTIVE = True`, `derived_objective`,
kit_objective.py), and the local-search and restart tactics say to judge answers by calling it;
a program that calls it gets its definition. Small models asked for a local search judged each
change by calling `utility`, or by an objective of their own that was wrong. A utility whose code
does not allow one (its score needs hidden truth, or it is not one call of the entry) gets none.
A valid reply that defines a new function its entry never calls also gets the variant whose
entry calls it scored (`WIRE_STEPS = True`, `wired_variant`, kit_wiring.py).

The local-search tactic's replies start inside the program, before its entry's final `return`,
with the search's loop already written (`SEARCH_STEPS = True`, `search_start`, kit_continue.py):
the answer's value by the objective, a `while` loop bounded by a share of the runtime contract's
CPU time limit, a copy of the answer and two random positions in it; the model writes the change
and the comparison. Only where the entry can call the objective on its own names; elsewhere the
tactic is a rewrite. With the embedded 1.5B model it took str_grid_dist from 0.46 to 0.94-0.99
on test and gave knapsack and partition their first gains (docs/small-models.md).

`CONTINUE_STEPS = True` in a copy makes the local-search and restart tactics' replies continue the
program: each starts inside it, just before its entry function's final `return`, with a comment
opening the step (`continuation`, kit_continue.py), so the step is written where the answer is in
scope instead of as a helper nothing calls. With an objective, the step names the answer and the
call on the program's own names (`objective(points, tour)`; `named_return`, `objective_call`). It
is off: with the embedded 1.5B model such replies were valid 2 times in 30 before the objective
(they computed it with the utility's names); with it, continued local searches were valid 19
times in 47, and on the built-in tasks they timed out, so the valid rate fell (three_sat 89% ->
40%) with no gain (docs/small-models.md).

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
    cpu_limit,
    declared_return,
    derived_objective,
    described_utility,
    end_with_return,
    extract,
    named_return,
    objective_call,
    search_start,
    solution_message,
    SEARCH_SHARE,
    tune_constants,
    utility_copies,
    versioned_start,
    wired_variant,
)

TEMPERATURE = 0.8
REPAIR_TEMPERATURE = 0.4
MAX_REPAIRS = 0  # repair attempts along one line of descent (0: every sample is a tactic)
TIME = "stop at half the CPU time limit of the runtime contract (check time.process_time())"
#: How the local-search and restart tactics say to compare answers; with OBJECTIVE, the derived
#: function is named instead.
JUDGED = (
    "judged by the objective computed in the program itself (the utility is not available to it)"
)
TACTICS = (
    "Keep the current approach, then add a local search at the end: repeatedly try one small "
    f"change to the answer (flip, swap or move one element), keep the change when the answer "
    f"gets better, {JUDGED}, and {TIME}.",
    "Replace the core heuristic with a stronger classic algorithm for this kind of problem, "
    "written from scratch with the allowed modules. If the space of answers is small enough, "
    "search it exhaustively.",
    "Make the current approach faster: compute each value once and update it incrementally "
    "instead of recomputing it, avoid repeated scans of the input, and spend the time saved on "
    f"more steps or restarts; {TIME}.",
    "Tune the numeric constants, thresholds, step counts and orderings of the current approach "
    "so that it scores higher.",
    "Run the construction several times with different random choices or orders and return the "
    f"best answer found, {JUDGED}; {TIME}.",
)
#: False leaves out the tactics that judge answers (JUDGED) when the utility has no objective
#: (`tactic_order`): asked to judge answers with nothing to judge them by, small models called
#: `utility`, which does not exist when the program runs.
OFFER_UNJUDGED = False
CONTINUE_STEPS = False
#: True starts the local-search tactic's replies inside the program with the search's loop
#: written (`search_start`): the answer judged by the derived objective, a loop bounded by
#: SEARCH_SHARE of the contract's CPU time limit, a copy of the answer to change; the model
#: writes the change and the comparison. Only where there is an objective the entry can call.
SEARCH_STEPS = True
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
#: True shows, below the utility, its score of one answer as a function `objective(...)` cut from
#: its code (`derived_objective`), which the local-search and restart tactics name and which is
#: copied into a program that calls it; nothing when the utility's code does not allow one.
OBJECTIVE = True
OBJECTIVE_NOTE = (
    "# The utility's score of one answer, as a function the program may call (it is copied into"
    " the program when called):"
)
#: True also scores, for a valid reply that defines a new function its entry never calls, the
#: variant whose entry calls it on its answer (`wired_variant`): small models write the asked-for
#: local search as a function and leave the entry as it was.
WIRE_STEPS = True
#: With CONTINUE_STEPS, tactics whose reply continues the program with this step (index -> step).
STEPS = {
    0: "local search: repeatedly try one small change to the answer (flip, swap or move one "
    "element) and keep it when the objective computed here gets better; " + TIME,
    4: "restarts: build the answer again several times with different random choices or "
    "orders, and keep the best one by the objective computed here; " + TIME,
}
#: STEPS as said when the program's entry can call the derived objective on its own names
#: (`objective_call`): the answer's name and the call take the place of "the objective".
STEPS_JUDGED = {
    0: "local search: repeatedly try one small change to {answer} (flip, swap or move one "
    "element) and keep it when {call} gets higher; " + TIME,
    4: "restarts: build {answer} again several times with different random choices or orders, "
    "and keep the one where {call} is highest; " + TIME,
}


def objective_of(utility):
    """The utility's score of one answer as a function a program can call (`derived_objective`),
    or "" when its code does not allow one or OBJECTIVE is off."""
    if not OBJECTIVE:
        return ""
    return derived_objective(getattr(utility, "str", "") or "") or ""


def shown(utility, objective=""):
    text = getattr(utility, "str", "")
    text = text if UTILITY_CODE else described_utility(text)
    return f"{text.rstrip()}\n\n\n{OBJECTIVE_NOTE}\n{objective}" if objective else text


def judged(tactic, objective):
    """`tactic` with its objective named as the derived function, when there is one."""
    head = objective.split(":", 1)[0].removeprefix("def ") if objective else ""
    if not head:
        return tactic
    return tactic.replace(JUDGED, f"judged by calling {head} (higher is better)")


def tactic_message(program, score, utility, tactic, objective=""):
    scored = "" if score is None else f"It scores {score:.4f} on the utility (higher is better). "
    task = f"{scored}Improve it this way:\n{judged(tactic, objective)}"
    return solution_message(program, utility, task, utility_text=shown(utility, objective))


def repair_message(program, error, utility):
    task = f"This version fails: {error}.\nFind the cause and fix it; keep the idea."
    return solution_message(program, utility, task, utility_text=shown(utility))


def continued_step(program, tactic, objective=""):
    """The step a continued reply of `tactic` opens: STEPS_JUDGED's, naming the objective called
    on the program's own names, when there is one; else STEPS's; None for other tactics."""
    call = objective_call(program, objective) if objective else None
    if call is None or tactic not in STEPS_JUDGED:
        return STEPS.get(tactic)
    answer = call[:-1].split("(", 1)[1].split(",")[-1].strip()  # the call's last argument
    return STEPS_JUDGED[tactic].format(answer=f"`{answer}`", call=call)


def search_seconds(utility):
    """The CPU seconds a scaffolded local search may use, or None (no limit in the contract)."""
    limit = cpu_limit(getattr(utility, "str", "") or "")
    return limit * SEARCH_SHARE if limit else None


def tactic_order(objective=""):
    """The tactics (by index) the samples take in turn: without an objective, not those that
    judge answers (JUDGED), since the program has nothing to judge them by (OFFER_UNJUDGED)."""
    every = tuple(range(len(TACTICS)))
    if objective or OFFER_UNJUDGED:
        return every
    return tuple(i for i in every if JUDGED not in TACTICS[i]) or every


def tactic_at(turn, objective=""):
    """The index of the tactic the `turn`-th sample takes (`tactic_order`)."""
    order = tactic_order(objective)
    return order[turn % len(order)]


def reply_start(program, turn, objective="", seconds=None, returns=""):
    """The text the reply of the `turn`-th tactic sample continues, or None: its usual start.
    `seconds`: the time a scaffolded local search may take; `returns`: the answer's declared
    type's first word (`declared_return`)."""
    tactic = tactic_at(turn, objective)
    if SEARCH_STEPS and tactic == 0 and objective and seconds:
        start = search_start(program, objective, seconds, returns)
        if start:
            return start
    step = continued_step(program, tactic, objective) if CONTINUE_STEPS else None
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
    objective = objective_of(utility)
    seconds = search_seconds(utility)
    returns = declared_return(getattr(utility, "str", "") or "")
    start = budgets.start(initial_solution)
    failures = []  # (program, error, repairs so far), newest last
    turn = 0
    for _ in range(MAX_ROUNDS):
        n = min(budgets.width(), budgets.utility_left())
        if n <= 0 or budgets.lm_left() <= 0:
            break
        parent = budgets.best if budgets.best is not None else initial_solution
        if (CONTINUE_STEPS or SEARCH_STEPS) and objective:  # a step that calls it names the answer
            parent = named_return(parent, objective)
        score = budgets.best_score if budgets.best is not None else start
        repairs, failures = failures[-(n // 2) :] if n > 1 else [], []
        messages = [repair_message(p, e, utility) for p, e, _ in repairs]
        tries = [t + 1 for _, _, t in repairs]
        starts = [None] * len(messages)
        while len(messages) < n:
            tactic = TACTICS[tactic_at(turn, objective)]
            messages.append(tactic_message(parent, score, utility, tactic, objective))
            starts.append(reply_start(parent, turn, objective, seconds, returns))
            tries.append(0)
            turn += 1
        temperature = REPAIR_TEMPERATURE if len(repairs) == n else TEMPERATURE
        responses = budgets.ask(messages, temperature, starts=starts)
        if not responses:
            break
        known = f"{parent}\n\n{objective}"  # functions that are not new steps
        for response, tried, begun in zip(responses, tries, starts):
            reply = close_step(response, parent) if begun else response
            code = extract(reply)
            code = end_with_return(code, parent) if begun else code
            code = add_utility_helpers(code, utility, objective)
            value = budgets.score(code)
            if value is None:
                continue
            wired = wired_variant(code, known) if WIRE_STEPS and value > 0 else None
            if wired is not None:  # the step the reply wrote as a function and never called
                budgets.score(wired)
            error = failure_of(utility, value, start)
            if error is not None and tried < MAX_REPAIRS:
                failures.append((code, error, tried))
    if budgets.best is not None:  # the utility budget left tunes the best program's constants
        tune_constants(budgets, budgets.best, utility_copies(budgets.best, utility, objective))
    return budgets.result(initial_solution)
