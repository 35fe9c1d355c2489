"""Growing a tree of improvers: the archive (DGM) and clade-guided (HGM) strategies.

The driver is independent of how an improver is expanded or evaluated: it takes two callbacks, so
the same code runs the real loop (store, sandboxed sessions) and a synthetic meta-utility in the
tests. Every step draws from its own RNG, seeded by (seed, strategy, step), so a resumed search
makes exactly the decisions an uninterrupted one would.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from selftaught.search.archive import ArchiveAdmission, ArchiveSelection
from selftaught.search.hgm import HGMSelection
from selftaught.search.policies import AcceptancePolicy, AdmitAll
from selftaught.search.tree import ImproverTree, TreeNode

#: (parent, expansion number t >= 1) -> a new node carrying its first evaluations, or None.
ExpandFn = Callable[[TreeNode, int], TreeNode | None]
#: node -> (validation, test) score of one more meta-training run.
EvaluateFn = Callable[[TreeNode], tuple[float, float]]

Kind = Literal["expand", "evaluate"]


@dataclass(frozen=True)
class Action:
    kind: Kind
    node: str  # the parent to expand, or the node to evaluate


@dataclass(frozen=True)
class StepRecord:
    """What one step did (kept in the run store and replayed on resume)."""

    step: int
    kind: Kind
    node: str
    candidate: str | None = None
    added: bool = False
    candidate_val: float | None = None
    candidate_test: float | None = None


class Strategy(Protocol):
    """Chooses the next action (None stops the search); `admission` decides which expanded
    children join the tree (the same `AcceptancePolicy` protocol as the chain's)."""

    @property
    def name(self) -> str: ...

    @property
    def admission(self) -> AcceptancePolicy: ...

    def next_action(
        self, tree: ImproverTree, rng: random.Random, expansions: int, evaluations: int
    ) -> Action | None: ...


@dataclass(frozen=True)
class ArchiveStrategy:
    """DGM: expand a parent drawn by the archive rule, `iterations` times."""

    iterations: int
    selection: ArchiveSelection = field(default_factory=ArchiveSelection)
    admission: ArchiveAdmission = field(default_factory=ArchiveAdmission)
    name: str = "archive"

    def next_action(
        self, tree: ImproverTree, rng: random.Random, expansions: int, evaluations: int
    ) -> Action | None:
        if expansions >= self.iterations:
            return None
        return Action("expand", self.selection.select(tree, rng).sha)


@dataclass(frozen=True)
class HGMStrategy:
    """HGM: expand or evaluate by the HGM rule; stop when an expansion is due after `iterations`.

    `max_evaluations` bounds the evaluation steps (a guard; the rule itself always turns back to
    expanding after finitely many evaluations).
    """

    iterations: int
    selection: HGMSelection = field(default_factory=HGMSelection)
    max_evaluations: int | None = None
    name: str = "hgm"
    #: every child counts toward its ancestors' clade
    admission: AcceptancePolicy = field(default_factory=AdmitAll)

    def next_action(
        self, tree: ImproverTree, rng: random.Random, expansions: int, evaluations: int
    ) -> Action | None:
        limit = self.max_evaluations if self.max_evaluations is not None else 10 * self.iterations
        if self.selection.decide(tree) == "expand" or evaluations >= limit:
            if expansions >= self.iterations:
                return None
            return Action("expand", self.selection.expansion_parent(tree, rng).sha)
        return Action("evaluate", self.selection.evaluation_target(tree, rng).sha)


def step_rng(seed: int, strategy: str, step: int) -> random.Random:
    """The RNG of one step (string seeds hash deterministically across processes)."""
    return random.Random(f"selftaught/{strategy}/{seed}/{step}")


def run_step(
    tree: ImproverTree,
    strategy: Strategy,
    step: int,
    expansions: int,
    evaluations: int,
    seed: int,
    expand: ExpandFn,
    evaluate: EvaluateFn,
) -> StepRecord | None:
    """Decide and perform one step, updating `tree` in place; None when the search is over."""
    rng = step_rng(seed, strategy.name, step)
    action = strategy.next_action(tree, rng, expansions, evaluations)
    if action is None:
        return None
    node = tree[action.node]
    if action.kind == "evaluate":
        val, test = evaluate(node)
        tree.replace(node.with_evaluation(val, test))
        return StepRecord(step, "evaluate", node.sha)
    candidate = expand(node, expansions + 1)
    if candidate is None:
        return StepRecord(step, "expand", node.sha)
    scores = (candidate.val, candidate.test)
    if candidate.sha in tree:  # the LM returned an improver we already have
        return StepRecord(step, "expand", node.sha, candidate.sha, False, *scores)
    added = strategy.admission.accept(node.as_node(), candidate.as_node())
    if added:
        tree.add(candidate)
    return StepRecord(step, "expand", node.sha, candidate.sha, added, *scores)


def grow(
    tree: ImproverTree,
    strategy: Strategy,
    *,
    seed: int,
    expand: ExpandFn,
    evaluate: EvaluateFn,
    history: list[StepRecord] | None = None,
    on_step: Callable[[ImproverTree, StepRecord], None] | None = None,
) -> list[StepRecord]:
    """Run `strategy` from `tree` (and the steps already in `history`) until it stops."""
    history = list(history or [])
    while True:
        expansions = sum(1 for r in history if r.kind == "expand")
        evaluations = len(history) - expansions
        record = run_step(
            tree, strategy, len(history) + 1, expansions, evaluations, seed, expand, evaluate
        )
        if record is None:
            return history
        history.append(record)
        if on_step is not None:
            on_step(tree, record)
