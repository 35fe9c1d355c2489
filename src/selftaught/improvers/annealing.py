"""Simulated annealing over programs, with a decaying acceptance and sampling temperature.

A plain source file run in the sandbox, stdlib and the paper's improver API only. The search
strategy is all here; the shared plumbing comes from the sandbox's `helpers` module (kit.py).
"""

import math
import random

from helpers import KEEP_INPUT, MAX_ROUNDS, Budgets, extract, solution_message

START_TEMPERATURE = 0.1  # acceptance temperature, in utility units
DECAY = 0.6  # the acceptance temperature is multiplied by this after every step
LM_TEMPERATURES = (1.0, 0.4)  # sampling temperature at the first and the last step
TASK = (
    "Propose a neighbouring solution: change one part of it in a way that could raise "
    "its score. First state the change in one sentence, then implement it."
)


def accept_probability(delta, temperature):
    """Metropolis rule: always accept a gain; accept a loss with probability exp(delta / T)."""
    if delta >= 0:
        return 1.0
    if temperature <= 0:
        return 0.0
    return math.exp(delta / temperature)


def lm_temperature(step, steps):
    """Linear decay of the sampling temperature from the first to the last planned step."""
    hot, cold = LM_TEMPERATURES
    if steps <= 1:
        return hot
    return hot + (cold - hot) * min(1.0, step / (steps - 1))


def improve_algorithm(initial_solution, utility, language_model, rng=random):
    """Simulated annealing over programs, with the acceptance temperature decaying each step."""
    budgets = Budgets(utility, language_model, KEEP_INPUT)
    start = budgets.start(initial_solution)
    current, current_score = initial_solution, start if start is not None else 0.0
    temperature = START_TEMPERATURE
    steps = budgets.lm_left()
    for step in range(MAX_ROUNDS):
        n = min(budgets.width(), budgets.utility_left())
        if n <= 0 or budgets.lm_left() <= 0:
            break
        message = solution_message(current, utility, TASK)
        responses = budgets.ask([message] * n, lm_temperature(step, steps))
        if not responses:
            break
        neighbours = []
        for response in responses:
            code = extract(response)
            score = budgets.score(code)
            if score is not None:
                neighbours.append((score, code))
        if neighbours:
            score, code = max(neighbours, key=lambda item: item[0])
            if rng.random() < accept_probability(score - current_score, temperature):
                current, current_score = code, score
        temperature *= DECAY
    return budgets.result(initial_solution)
