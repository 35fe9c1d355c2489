"""Multi-armed prompt bandit: UCB1 chooses among instruction variants.

A plain source file run in the sandbox, stdlib and the paper's improver API only. The search
strategy is all here; the shared plumbing comes from the sandbox's `helpers` module (kit.py).
"""

import math

from helpers import KEEP_INPUT, MAX_ROUNDS, Budgets, extract, solution_message

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
    budgets = Budgets(utility, language_model, KEEP_INPUT)
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
