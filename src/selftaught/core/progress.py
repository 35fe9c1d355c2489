"""A tiny progress-reporting seam: the loop reports, the CLI decides how to show it."""

from __future__ import annotations

from typing import Protocol


class ProgressSink(Protocol):
    """Receives counts of finished work and growing estimates of the total."""

    def expect(self, *, samples: int = 0, evaluations: int = 0) -> None:
        """Add to the expected totals."""

    def lm_samples(self, n: int) -> None:
        """`n` more LM samples are done (cached ones included)."""

    def evaluations(self, n: int) -> None:
        """`n` more sandboxed evaluations are done."""

    def note(self, text: str) -> None:
        """A one-line status message."""

    def status(self, text: str) -> None:
        """Replace the live status line (e.g. the best score so far)."""


class NullProgress:
    """Reports nothing."""

    def expect(self, *, samples: int = 0, evaluations: int = 0) -> None:
        return None

    def lm_samples(self, n: int) -> None:
        return None

    def evaluations(self, n: int) -> None:
        return None

    def note(self, text: str) -> None:
        return None

    def status(self, text: str) -> None:
        return None
