import random


def algorithm(clauses, n_vars):
    """Seed solution: a WalkSAT-style random walk (1000 steps, noise p = 0.4)."""
    rng = random.Random(0)
    values = [rng.random() < 0.5 for _ in range(n_vars + 1)]  # index 0 unused

    def satisfied(clause):
        return any(values[abs(lit)] == (lit > 0) for lit in clause)

    def unsatisfied_count():
        return sum(not satisfied(c) for c in clauses)

    for _ in range(1000):
        unsatisfied = [c for c in clauses if not satisfied(c)]
        if not unsatisfied:
            break
        clause = rng.choice(unsatisfied)
        if rng.random() < 0.4:
            var = abs(rng.choice(clause))
        else:
            scores = []
            for lit in clause:
                values[abs(lit)] = not values[abs(lit)]
                scores.append((unsatisfied_count(), abs(lit)))
                values[abs(lit)] = not values[abs(lit)]
            var = min(scores)[1]
        values[var] = not values[var]
    return values[1:]
