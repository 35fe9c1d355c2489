"""Beam search with a utility cache: a reference improver (selftaught improver library).

A plain source file run in the sandbox, stdlib and the paper's improver API only. The search
strategy is all here; the shared plumbing comes from the sandbox's `helpers` module (kit.py).
"""

from helpers import KEEP_INPUT, MAX_ROUNDS, Budgets, extract, solution_message

BEAM_WIDTH = 2
TEMPERATURE = 0.8
TASK = (
    "Write an improved version of the solution. The main improvement must be novel and "
    "non-trivial. First state your idea in one sentence, then implement it."
)


def next_beam(beam, children, width):
    """The `width` best distinct programs among the beam and its children, best first."""
    pool = {}
    for score, program in list(beam) + list(children):
        key = program.strip()
        if key not in pool or score > pool[key][0]:
            pool[key] = (score, program)
    return sorted(pool.values(), key=lambda item: -item[0])[:width]


def improve_algorithm(initial_solution, utility, language_model):
    """Beam search: expand the BEAM_WIDTH best programs with LM rewrites, keep the best, repeat.

    Every program is scored once (utility cache), so duplicates the LM repeats cost nothing.
    """
    budgets = Budgets(utility, language_model, KEEP_INPUT)
    start = budgets.start(initial_solution)
    beam = [(start if start is not None else 0.0, initial_solution)]
    for _ in range(MAX_ROUNDS):
        n = min(budgets.width(), budgets.utility_left())
        if n <= 0 or budgets.lm_left() <= 0:
            break
        parents = [program for _, program in beam]
        messages = [solution_message(parents[i % len(parents)], utility, TASK) for i in range(n)]
        responses = budgets.ask(messages, TEMPERATURE)
        if not responses:
            break
        children = []
        for response in responses:
            code = extract(response)
            score = budgets.score(code)
            if score is not None:
                children.append((score, code))
        beam = next_beam(beam, children, BEAM_WIDTH)
    return budgets.result(initial_solution)
