"""The tree of improvers that archive (DGM) and clade-guided (HGM) search grow.

A node is one improver with its own evaluations: one validation (and test) score per meta-training
run. Nodes are immutable; refining a node's meta-utility with one more run replaces it by a new
node value, so statistics pooled over a clade never write into any node's own record.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from selftaught.search.policies import Node


@dataclass(frozen=True)
class TreeNode:
    """One improver: its hash, its parent's hash and its own per-run scores."""

    sha: str
    parent: str | None
    val_runs: tuple[float, ...] = ()
    test_runs: tuple[float, ...] = ()
    step: int = 0  # the search step that created it

    @property
    def evaluations(self) -> int:
        return len(self.val_runs)

    @property
    def successes(self) -> float:
        """Sum of validation scores in [0, 1]: fractional successes of a Beta posterior."""
        return float(sum(self.val_runs))

    @property
    def val(self) -> float:
        """The meta-utility estimate: mean validation score (0 with no evaluation)."""
        return statistics.fmean(self.val_runs) if self.val_runs else 0.0

    @property
    def test(self) -> float:
        return statistics.fmean(self.test_runs) if self.test_runs else 0.0

    def as_node(self) -> Node:
        """The node as the admission policies see it: hash, meta-utility estimate and parent."""
        return Node(self.sha, self.val, self.test, self.parent)

    def with_evaluation(self, val: float, test: float) -> TreeNode:
        """A copy with one more run's scores (the meta-utility refined incrementally)."""
        return replace(self, val_runs=(*self.val_runs, val), test_runs=(*self.test_runs, test))


class ImproverTree:
    """Nodes by hash, in insertion order, with parent/child navigation."""

    def __init__(self, nodes: Iterable[TreeNode] = ()) -> None:
        self._nodes: dict[str, TreeNode] = {}
        for node in nodes:
            self.add(node)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, sha: object) -> bool:
        return sha in self._nodes

    def __getitem__(self, sha: str) -> TreeNode:
        return self._nodes[sha]

    def get(self, sha: str | None) -> TreeNode | None:
        return self._nodes.get(sha) if sha is not None else None

    @property
    def nodes(self) -> list[TreeNode]:
        return list(self._nodes.values())

    def add(self, node: TreeNode) -> None:
        if node.sha in self._nodes:
            raise ValueError(f"node {node.sha[:12]} is already in the tree")
        if node.parent is not None and node.parent not in self._nodes:
            raise ValueError(f"parent {node.parent[:12]} of {node.sha[:12]} is not in the tree")
        self._nodes[node.sha] = node

    def replace(self, node: TreeNode) -> None:
        """Swap in a node's new value (same hash and parent)."""
        old = self._nodes[node.sha]
        if old.parent != node.parent:
            raise ValueError("a node's parent never changes")
        self._nodes[node.sha] = node

    def children(self, sha: str) -> list[TreeNode]:
        return [n for n in self._nodes.values() if n.parent == sha]

    def descendants(self, sha: str) -> list[TreeNode]:
        """Every node below `sha` (not `sha` itself), breadth first."""
        out: list[TreeNode] = []
        frontier = [sha]
        while frontier:
            kids = [c for parent in frontier for c in self.children(parent)]
            out.extend(kids)
            frontier = [c.sha for c in kids]
        return out

    def clade(self, sha: str) -> list[TreeNode]:
        """The node and all its descendants."""
        return [self._nodes[sha], *self.descendants(sha)]

    def total_evaluations(self) -> int:
        return sum(n.evaluations for n in self._nodes.values())

    def best(self) -> TreeNode:
        """Highest mean validation score; more evaluations, then earlier creation, break ties."""
        order = {sha: i for i, sha in enumerate(self._nodes)}
        return max(self._nodes.values(), key=lambda n: (n.val, n.evaluations, -order[n.sha]))

    # -- persistence ----------------------------------------------------------------------------
    def to_json(self) -> list[dict[str, Any]]:
        return [
            {
                "sha256": n.sha,
                "parent": n.parent,
                "step": n.step,
                "val_runs": list(n.val_runs),
                "test_runs": list(n.test_runs),
            }
            for n in self._nodes.values()
        ]

    @classmethod
    def from_json(cls, rows: list[dict[str, Any]]) -> ImproverTree:
        return cls(
            TreeNode(
                r["sha256"],
                r["parent"],
                tuple(float(v) for v in r["val_runs"]),
                tuple(float(v) for v in r["test_runs"]),
                int(r.get("step", 0)),
            )
            for r in rows
        )

    def summary_nodes(self) -> list[dict[str, Any]]:
        """The `tree` of summary.json: nodes with parent, scores and number of evaluations."""
        return [
            {
                "sha256": n.sha,
                "parent": n.parent,
                "step": n.step,
                "meta_utility_val": n.val,
                "meta_utility_test": n.test,
                "evaluations": n.evaluations,
                "children": len(self.children(n.sha)),
            }
            for n in self._nodes.values()
        ]


class Rng(Protocol):
    """What the selection rules need from a random source (`random.Random` fits)."""

    def random(self) -> float: ...

    def betavariate(self, alpha: float, beta: float) -> float: ...
