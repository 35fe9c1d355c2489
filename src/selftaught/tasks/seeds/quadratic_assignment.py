import math
import random


def algorithm(F, D, P):
    """Seed solution: simulated annealing over random swaps (1000 steps, cooling 0.99)."""
    n = len(F)
    lambda_value = 0.5
    rng = random.Random(0)

    def objective(a):
        flow = sum(F[i][j] * D[a[i]][a[j]] for i in range(n) for j in range(n))
        return flow - lambda_value * sum(P[i][a[i]] for i in range(n))

    current = list(range(n))
    current_value = objective(current)
    best, best_value = list(current), current_value
    temperature = 1.0
    for _ in range(1000):
        temperature *= 0.99
        i, j = rng.sample(range(n), 2)
        candidate = list(current)
        candidate[i], candidate[j] = candidate[j], candidate[i]
        value = objective(candidate)
        delta = value - current_value
        if delta < 0 or rng.random() < math.exp(-delta / temperature):
            current, current_value = candidate, value
            if value < best_value:
                best, best_value = list(candidate), value
    return best
