"""Learning parity (with or without label noise): the shared generator, grader and utility text.

A secret subset of the 10 input bits (each bit in the subset with probability 0.3) defines the
label: the XOR of the selected bits. The candidate sees labelled training samples and predicts the
labels of the test samples; the test labels are hidden. Score: fraction of correct labels. A
prediction of the wrong type or length scores 0 for that instance, which closes the reference's
shape reward hack (broadcasting a wrongly shaped array to inflate accuracy).
"""

from __future__ import annotations

import random
from typing import Any

from selftaught.tasks.base import Instance
from selftaught.tasks.validate import as_bits

N_BITS = 10
P_SECRET = 0.3
N_TRAIN = 100
N_TEST = 20
NOISE = 0.05

SIGNATURE = "algorithm(train_samples, train_labels, test_samples) -> list[int]"


def make_generator(noise: float) -> Any:
    """A generator of parity instances whose training labels flip with probability `noise`."""

    def generate(rng: random.Random, index: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        secret = [int(rng.random() < P_SECRET) for _ in range(N_BITS)]
        samples = [[rng.randint(0, 1) for _ in range(N_BITS)] for _ in range(N_TRAIN + N_TEST)]
        labels = [sum(s * b for s, b in zip(secret, x, strict=True)) % 2 for x in samples]
        train_labels = [y ^ int(rng.random() < noise) for y in labels[:N_TRAIN]]
        args = (samples[:N_TRAIN], train_labels, samples[N_TRAIN:])
        return args, {"test_labels": tuple(labels[N_TRAIN:]), "secret": tuple(secret)}

    return generate


def grade(instance: Instance, answer: Any) -> float:
    """Fraction of test labels predicted correctly."""
    truth = instance.hidden["test_labels"]
    predicted = as_bits(answer, len(truth))
    return sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)


def utility_text(noise: float, time_limit: float) -> str:
    """The scorer as the improver's prompt shows it (random instances, same rules)."""
    noise_lines = (
        f"        flips = [int(random.random() < {noise}) for _ in range(n_train)]\n"
        "        train_labels = [y ^ f for y, f in zip(train_labels, flips)]\n"
        if noise
        else ""
    )
    kind = " with noise" if noise else " without noise"
    return f'''import random

def utility(algorithm_str: str) -> float:
    """Learning parity{kind}. Returns the mean test accuracy in [0, 1].

    algorithm(train_samples, train_labels, test_samples) gets lists of 0/1 lists and 0/1 ints and
    must return a list with exactly one 0/1 label per test sample; anything else scores 0.
    Each call has {time_limit:g} seconds; a timeout or exception scores 0 for that instance.
    """
    exec(algorithm_str, globals())
    n_tests, n_bits, n_train, n_test = 3, {N_BITS}, {N_TRAIN}, {N_TEST}
    total = 0.0
    for _ in range(n_tests):
        secret = [int(random.random() < {P_SECRET}) for _ in range(n_bits)]
        samples = [[random.randint(0, 1) for _ in range(n_bits)] for _ in range(n_train + n_test)]
        labels = [sum(s * b for s, b in zip(secret, x)) % 2 for x in samples]
        train_labels = labels[:n_train]
{noise_lines}        try:
            predictions = algorithm(samples[:n_train], train_labels, samples[n_train:])
            truth = labels[n_train:]
            if isinstance(predictions, list) and len(predictions) == n_test:
                total += sum(p == t for p, t in zip(predictions, truth)) / n_test
        except Exception:
            pass
    return total / n_tests
'''
