import random


def algorithm(train_samples, train_labels, test_samples):
    """Seed solution: ignore the training data and guess each label at random."""
    rng = random.Random(0)  # a fixed seed keeps the score reproducible
    return [rng.randint(0, 1) for _ in test_samples]
