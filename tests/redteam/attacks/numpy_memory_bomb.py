# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Ask numpy for a huge array and touch every page."""

import numpy as np


def attack():
    big = np.ones((1 << 31,), dtype=np.float64)
    return float(big.sum())
