"""Small policies the searches are assembled from (acceptance, parent selection, stopping).

`AcceptancePolicy` is the one admission rule of every search: whether a candidate improver
replaces its parent (the chain: `GatedAcceptance` or `PaperAcceptance`) or joins the tree (archive:
`ArchiveAdmission`; hgm: `AdmitAll`). The chain also uses "latest adopted improver" as parent and
a fixed number of iterations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from selftaught.tasks.timing import versus


@dataclass(frozen=True)
class Node:
    """One improver in the search: its hash and its meta-utility.

    `margin` is how far the scorer's near-limit timing verdicts could move `val`.
    """

    sha: str
    val: float
    test: float
    parent: str | None = None
    margin: float = 0.0


def within_noise(a: Node, b: Node) -> bool:
    """Whether two meta-utilities differ by no more than the scorer's timing margins allow."""
    return versus(a.val, a.margin, b.val, b.margin) == "tie"


class AcceptancePolicy(Protocol):
    """Decides whether a candidate improver is admitted (replaces its parent, or joins the tree)."""

    @property
    def name(self) -> str: ...

    def accept(self, parent: Node, candidate: Node) -> bool: ...


@dataclass(frozen=True)
class GatedAcceptance:
    """Adopt only when the candidate's validation meta-utility is above the parent's.

    The parent stays when nothing beats it: a difference within the scorer's timing margins
    (`versus` says "tie") or an equal score is no gain, and adopting it would let a copy or an
    edit that changes nothing replace a measured improver (a tied step adopted this way lost 3 of
    5 transfer tasks in `make run`). A candidate scoring zero is never adopted.
    """

    name: str = "gated"

    def accept(self, parent: Node, candidate: Node) -> bool:
        verdict = versus(candidate.val, candidate.margin, parent.val, parent.margin)
        return candidate.val > 0.0 and verdict == "better"


@dataclass(frozen=True)
class AdmitAll:
    """Admit every candidate: HGM counts every child toward its ancestors' clades, and a tree
    search's improvement step leaves admission to its strategy."""

    name: str = "all"

    def accept(self, parent: Node, candidate: Node) -> bool:
        return True


@dataclass(frozen=True)
class PaperAcceptance:
    """The reference behaviour: adopt any candidate scoring above zero, no comparison."""

    name: str = "paper"

    def accept(self, parent: Node, candidate: Node) -> bool:
        return candidate.val > 0.0


class ParentSelection(Protocol):
    """Chooses the improver to improve next from the nodes adopted so far."""

    def select(self, adopted: Sequence[Node]) -> Node: ...


@dataclass(frozen=True)
class LatestParent:
    """The chain: always improve the most recently adopted improver."""

    def select(self, adopted: Sequence[Node]) -> Node:
        return adopted[-1]


class StoppingPolicy(Protocol):
    """Decides whether to stop before iteration `t` (1-based)."""

    def stop(self, t: int, adopted: Sequence[Node]) -> bool: ...


@dataclass(frozen=True)
class FixedIterations:
    """Run exactly T iterations."""

    iterations: int

    def stop(self, t: int, adopted: Sequence[Node]) -> bool:
        return t > self.iterations


def acceptance_for(paper_mode: bool) -> AcceptancePolicy:
    """The acceptance rule named by the run config."""
    return PaperAcceptance() if paper_mode else GatedAcceptance()
