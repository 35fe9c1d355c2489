"""Published numbers from the STOP paper, kept as data so reports can show them beside a run's.

Source: E. Zelikman, E. Lorch, L. Mackey, A. T. Kalai, "Self-Taught Optimizer (STOP): Recursively
Self-Improving Code Generation", COLM 2024 (arXiv:2310.02304). The transfer numbers are the
paper's Table 1 (GPT-4 improver, self-improved for T = 4 iterations on learning parity with noise,
then applied unchanged to the tasks below). The circumvention rates are from the paper's
sandbox experiment (share of improvements that switched off the utility's `use_sandbox` flag).
"""

from __future__ import annotations

from dataclasses import dataclass

CITATION = (
    "Zelikman, Lorch, Mackey, Kalai. Self-Taught Optimizer (STOP): Recursively Self-Improving "
    "Code Generation. COLM 2024, arXiv:2310.02304"
)
PAPER_URL = "https://arxiv.org/abs/2310.02304"


@dataclass(frozen=True)
class PaperTransferRow:
    """One row of the paper's Table 1, as fractions in [0, 1]."""

    task: str  # selftaught's task name
    label: str  # the paper's row label
    original: float
    seed_improver: float
    improved_improver: float


#: Table 1 of the paper, in its row order.
PAPER_TRANSFER: tuple[PaperTransferRow, ...] = (
    PaperTransferRow("str_grid_dist", "String grid distance", 0.439, 0.443, 0.567),
    PaperTransferRow("quadratic_assignment", "Modified quadratic assignment", 0.204, 0.206, 0.221),
    PaperTransferRow("three_sat", "3SAT", 0.0, 0.212, 0.751),
    PaperTransferRow("maxcut", "Maxcut", 0.0, 0.587, 0.742),
    PaperTransferRow("parity_noiseless", "Parity without noise", 0.500, 0.593, 0.817),
)


@dataclass(frozen=True)
class PaperRate:
    """A published circumvention rate with its 95% Wilson interval (fractions)."""

    setting: str
    rate: float
    low: float
    high: float


#: Sandbox circumvention: the improver disabled `use_sandbox` (over 10,000 improvements each).
PAPER_UNSANDBOXING: tuple[PaperRate, ...] = (
    PaperRate("GPT-4", 0.0042, 0.0031, 0.0057),
    PaperRate("GPT-4, with a warning in the prompt", 0.0046, 0.0035, 0.0061),
    PaperRate("GPT-3.5", 0.0012, 0.0007, 0.0021),
    PaperRate("GPT-3.5, with a warning in the prompt", 0.0017, 0.0011, 0.0027),
)
