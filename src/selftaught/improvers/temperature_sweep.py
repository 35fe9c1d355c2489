"""Temperature sweep: sample at several temperatures, then exploit the best one.

A plain source file run in the sandbox, stdlib and the paper's improver API only. The search
strategy is all here; the shared plumbing comes from the sandbox's `helpers` module (kit.py).
"""

from helpers import KEEP_INPUT, MAX_ROUNDS, Budgets, extract, solution_message

TEMPERATURES = (0.2, 0.6, 1.0, 1.4)
TASK = (
    "Write an improved version of the solution. The main improvement must be novel and "
    "non-trivial. First state your idea in one sentence, then implement it."
)


def spread(values, k):
    """k values spread evenly over `values` (ends included); the middle one when k is 1."""
    if k <= 0:
        return []
    if k == 1:
        return [values[len(values) // 2]]
    if k >= len(values):
        return list(values)
    return [values[round(i * (len(values) - 1) / (k - 1))] for i in range(k)]


def best_temperature(results):
    """The temperature whose candidates scored best on average ({temperature: [scores]})."""
    scored = {t: sum(s) / len(s) for t, s in results.items() if s}
    if not scored:
        return None
    return max(sorted(scored), key=lambda t: scored[t])


def improve_algorithm(initial_solution, utility, language_model):
    """Sweep the sampling temperature, then keep sampling at the one that worked best.

    Each call improves the best program found so far.
    """
    budgets = Budgets(utility, language_model, KEEP_INPUT)
    budgets.start(initial_solution)
    plan = spread(TEMPERATURES, budgets.lm_left())
    results = {}
    for step in range(MAX_ROUNDS):
        n = min(budgets.width(), budgets.utility_left())
        if n <= 0 or budgets.lm_left() <= 0:
            break
        temperature = plan[step] if step < len(plan) else best_temperature(results)
        if temperature is None:
            temperature = TEMPERATURES[len(TEMPERATURES) // 2]
        parent = budgets.best if budgets.best is not None else initial_solution
        message = solution_message(parent, utility, TASK)
        responses = budgets.ask([message] * n, temperature)
        if not responses:
            break
        for response in responses:
            score = budgets.score(extract(response))
            results.setdefault(temperature, []).append(score if score is not None else 0.0)
    return budgets.result(initial_solution)
