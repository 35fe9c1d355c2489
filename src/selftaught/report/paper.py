"""Published numbers from the STOP paper, kept as data so reports can show them beside a run's.

Source: E. Zelikman, E. Lorch, L. Mackey, A. T. Kalai, "Self-Taught Optimizer (STOP): Recursively
Self-Improving Code Generation", COLM 2024 (arXiv:2310.02304). The transfer numbers are the
paper's Table 1 (GPT-4 improver, self-improved for T = 4 iterations on learning parity with noise,
then applied unchanged to the tasks below). The circumvention rates are from the paper's
sandbox experiment (share of improvements that switched off the utility's `use_sandbox` flag).
"""

from __future__ import annotations

from dataclasses import dataclass

from selftaught.search.transfer import TransferRow

CITATION = (
    "Zelikman, Lorch, Mackey, Kalai. Self-Taught Optimizer (STOP): Recursively Self-Improving "
    "Code Generation. COLM 2024, arXiv:2310.02304"
)
PAPER_URL = "https://arxiv.org/abs/2310.02304"


#: Table 1 of the paper, in its row order.
PAPER_TRANSFER: tuple[TransferRow, ...] = (
    TransferRow("str_grid_dist", 0.439, 0.443, 0.567, label="String grid distance"),
    TransferRow("quadratic_assignment", 0.204, 0.206, 0.221, label="Modified quadratic assignment"),
    TransferRow("three_sat", 0.0, 0.212, 0.751, label="3SAT"),
    TransferRow("maxcut", 0.0, 0.587, 0.742, label="Maxcut"),
    TransferRow("parity_noiseless", 0.500, 0.593, 0.817, label="Parity without noise"),
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
