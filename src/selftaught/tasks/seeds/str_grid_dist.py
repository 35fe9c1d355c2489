def algorithm(t, dist):
    """Seed solution: return the target itself, whatever the requested distance."""
    return t
