"""Never worse: what `improve` hands back when the improver's program does not beat its input.

An improver may return a program that scores below the one it was given (the paper's seed improver
never keeps its input, and small models often write broken code). `improve` compares the two on
the validation split, the split improvers optimise, and keeps the input unless the returned
program is better beyond the scorer's timing margins (`selftaught.tasks.timing.versus`). The test
split is never used to choose.
"""

from __future__ import annotations

from dataclasses import dataclass

from selftaught.tasks.timing import versus


@dataclass(frozen=True)
class ScoredProgram:
    """A program with its validation score (and timing margin) and its test score."""

    source: str
    val: float
    val_margin: float
    test: float


@dataclass(frozen=True)
class Kept:
    """The program `improve` hands back and whether it is an improvement of the input."""

    program: ScoredProgram
    improved: bool
    reason: str


def keep_better(original: ScoredProgram, candidate: ScoredProgram | None) -> Kept:
    """The candidate when its val score beats the original's beyond both margins, else the
    original, with a sentence saying why."""
    if candidate is None:
        return Kept(original, False, "the improver returned no program; the input is kept")
    verdict = versus(candidate.val, candidate.val_margin, original.val, original.val_margin)
    if verdict == "better":
        return Kept(candidate, True, f"val {original.val:.4f} -> {candidate.val:.4f}")
    if candidate.source == original.source:
        return Kept(original, False, "the improver returned its input unchanged")
    relation = "tied with" if verdict == "tie" else "scored below"
    return Kept(
        original,
        False,
        f"the improver's program {relation} the input on val ({candidate.val:.4f} vs "
        f"{original.val:.4f}); the input is kept",
    )
