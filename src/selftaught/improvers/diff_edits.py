"""Diff-based edits: SEARCH/REPLACE blocks applied tolerantly (easier for small models).

A plain source file run in the sandbox, stdlib and the paper's improver API only. The search
strategy is all here; the shared plumbing, SEARCH/REPLACE parsing and tolerant application included,
comes from the sandbox's `helpers` module (kit.py, kit_edits.py).
"""

from helpers import (
    KEEP_INPUT,
    MAX_ROUNDS,
    Budgets,
    _parses,
    apply_edits,
    extract,
    parse_edits,
    solution_message,
)

TEMPERATURE = 0.7
TASK = """Improve the solution by editing it. Describe your idea in one sentence, then give one or
more edits, each in exactly this form:
<<<<<<< SEARCH
lines copied exactly from the current solution
=======
the lines that replace them
>>>>>>> REPLACE
Keep each SEARCH part short and unique."""


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
    budgets = Budgets(utility, language_model, KEEP_INPUT)
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
