"""Huxley-Gödel Machine rules: clade metaproductivity with Thompson sampling.

- Clade statistics pool a node's own evaluations with those of all its descendants: S = sum of
  validation scores (fractional successes), n = number of evaluations. The nodes' own records
  are only read.
- Expansion parent: the node with the highest draw from Beta(1 + S_clade, 1 + n_clade − S_clade).
- Expand while (total evaluations)^α ≥ nodes − 1 (α = 0.6); otherwise evaluate one node on one
  more meta-training run, chosen by a Thompson draw from its own Beta(1 + S, 1 + n − S).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from selftaught.search.tree import ImproverTree, Rng, TreeNode

Decision = Literal["expand", "evaluate"]


def clade_counts(tree: ImproverTree, sha: str) -> tuple[float, int]:
    """(S, n) pooled over the node and all its descendants."""
    clade = tree.clade(sha)
    return sum(n.successes for n in clade), sum(n.evaluations for n in clade)


def beta_parameters(successes: float, trials: int) -> tuple[float, float]:
    """Beta(1 + S, 1 + n − S) from a uniform prior; S is clipped into [0, n]."""
    s = min(max(successes, 0.0), float(trials))
    return 1.0 + s, 1.0 + trials - s


def should_expand(evaluations: int, nodes: int, alpha: float = 0.6) -> bool:
    """HGM's rule: expand while evaluations^α ≥ nodes − 1."""
    return evaluations**alpha >= nodes - 1


def thompson_argmax(
    candidates: list[TreeNode], counts: dict[str, tuple[float, int]], rng: Rng
) -> TreeNode:
    """The candidate with the highest Beta draw (one draw per candidate, in order)."""
    best, best_draw = candidates[0], -1.0
    for node in candidates:
        draw = rng.betavariate(*beta_parameters(*counts[node.sha]))
        if draw > best_draw:
            best, best_draw = node, draw
    return best


@dataclass(frozen=True)
class HGMSelection:
    """The three HGM decisions over an `ImproverTree`."""

    alpha: float = 0.6
    name: str = "hgm"

    def decide(self, tree: ImproverTree) -> Decision:
        return (
            "expand"
            if should_expand(tree.total_evaluations(), len(tree), self.alpha)
            else ("evaluate")
        )

    def expansion_parent(self, tree: ImproverTree, rng: Rng) -> TreeNode:
        counts = {n.sha: clade_counts(tree, n.sha) for n in tree.nodes}
        return thompson_argmax(tree.nodes, counts, rng)

    def evaluation_target(self, tree: ImproverTree, rng: Rng) -> TreeNode:
        counts = {n.sha: (n.successes, n.evaluations) for n in tree.nodes}
        return thompson_argmax(tree.nodes, counts, rng)

    def select(self, tree: ImproverTree, rng: Rng) -> TreeNode:
        """Parent selection (the protocol shared with the archive)."""
        return self.expansion_parent(tree, rng)
