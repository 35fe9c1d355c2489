"""DGM-style open-ended archive: parent selection and admission.

Parent weight (Darwin Gödel Machine): w = sigmoid(λ·(s − m)) / (1 + children), where s is the
node's meta-utility normalised over the archive (min-max, so the best node has s = 1 and the worst
s = 0; all equal gives 0.5 each), λ = 10 and m = 0.5 by default. A parent is drawn with
probability w / Σw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from selftaught.search.policies import Node
from selftaught.search.tree import ImproverTree, Rng, TreeNode


def sigmoid(x: float) -> float:
    """The logistic function, stable for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def normalise(scores: list[float]) -> list[float]:
    """Min-max normalisation to [0, 1]; identical scores all map to 0.5."""
    if not scores:
        return []
    lo, hi = min(scores), max(scores)
    if hi - lo <= 1e-12:
        return [0.5] * len(scores)
    return [(s - lo) / (hi - lo) for s in scores]


def weighted_choice(items: list[TreeNode], weights: list[float], rng: Rng) -> TreeNode:
    """Draw one item with probability proportional to its weight (one rng.random() call)."""
    total = sum(weights)
    if not items or total <= 0:
        raise ValueError("nothing to choose from")
    point = rng.random() * total
    running = 0.0
    for item, weight in zip(items, weights, strict=True):
        running += weight
        if point < running:
            return item
    return items[-1]


@dataclass(frozen=True)
class ArchiveSelection:
    """The DGM parent rule; `minmax=False` uses raw scores (already in [0, 1])."""

    lam: float = 10.0
    midpoint: float = 0.5
    minmax: bool = True
    name: str = "archive"

    def weights(self, tree: ImproverTree) -> dict[str, float]:
        nodes = tree.nodes
        raw = [n.val for n in nodes]
        scores = normalise(raw) if self.minmax else [min(1.0, max(0.0, s)) for s in raw]
        return {
            n.sha: sigmoid(self.lam * (s - self.midpoint)) / (1 + len(tree.children(n.sha)))
            for n, s in zip(nodes, scores, strict=True)
        }

    def probabilities(self, tree: ImproverTree) -> dict[str, float]:
        weights = self.weights(tree)
        total = sum(weights.values())
        return {sha: w / total for sha, w in weights.items()}

    def select(self, tree: ImproverTree, rng: Rng) -> TreeNode:
        weights = self.weights(tree)
        nodes = tree.nodes
        return weighted_choice(nodes, [weights[n.sha] for n in nodes], rng)


@dataclass(frozen=True)
class ArchiveAdmission:
    """DGM keeps every working child: admit a candidate whose meta-utility is above zero."""

    name: str = "archive"

    def accept(self, parent: Node, candidate: Node) -> bool:
        return candidate.val > 0.0
