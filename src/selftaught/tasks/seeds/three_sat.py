import random


def algorithm(clauses, n_vars):
    """Seed solution: a WalkSAT-style random walk (1000 steps, noise p = 0.4).

    Start with every variable false. While some clause is unsatisfied, pick one at random and
    flip one of its variables: a random one with probability p, otherwise the one whose literal
    occurs in the fewest satisfied clauses.
    """
    rng = random.Random(0)
    values = [False] * (n_vars + 1)  # index 0 unused

    def satisfied(clause):
        return any(values[abs(lit)] == (lit > 0) for lit in clause)

    for _ in range(1000):
        unsatisfied = [c for c in clauses if not satisfied(c)]
        if not unsatisfied:
            break
        clause = rng.choice(unsatisfied)
        if rng.random() < 0.4:
            lit = rng.choice(clause)
        else:
            lit = min(clause, key=lambda x: sum(1 for c in clauses if x in c and satisfied(c)))
        values[abs(lit)] = not values[abs(lit)]
    return values[1:]
