"""Selection rules of the archive (DGM) and HGM searches: exact arithmetic on small trees, and a
deterministic synthetic meta-utility driving the generic tree-growing loop."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import pytest

from selftaught.search.archive import (
    ArchiveAdmission,
    ArchiveSelection,
    normalise,
    sigmoid,
    weighted_choice,
)
from selftaught.search.hgm import (
    HGMSelection,
    beta_parameters,
    clade_counts,
    should_expand,
    thompson_argmax,
)
from selftaught.search.policies import Node
from selftaught.search.tree import ImproverTree, TreeNode
from selftaught.search.tree_strategies import ArchiveStrategy, HGMStrategy, StepRecord, grow


def small_tree() -> ImproverTree:
    #        root (0.2, 0.2)
    #        /            \
    #   a (0.6)         b (1.0)
    #      |
    #   c (0.0, 0.5, 1.0)
    return ImproverTree(
        [
            TreeNode("root", None, (0.2, 0.2), (0.1, 0.1)),
            TreeNode("a", "root", (0.6,), (0.5,), 1),
            TreeNode("b", "root", (1.0,), (0.9,), 2),
            TreeNode("c", "a", (0.0, 0.5, 1.0), (0.4, 0.4, 0.4), 3),
        ]
    )


class MeanRng:
    """A stand-in RNG whose Beta draw is the distribution's mean (makes Thompson greedy)."""

    def __init__(self, point: float = 0.0) -> None:
        self.point = point
        self.beta_calls: list[tuple[float, float]] = []

    def random(self) -> float:
        return self.point

    def betavariate(self, alpha: float, beta: float) -> float:
        self.beta_calls.append((alpha, beta))
        return alpha / (alpha + beta)


# -- archive ----------------------------------------------------------------------------------
def test_sigmoid_and_normalise() -> None:
    assert sigmoid(0) == 0.5 and sigmoid(800) == 1.0 and sigmoid(-800) == 0.0
    assert sigmoid(2) == pytest.approx(1 / (1 + math.exp(-2)))
    assert normalise([0.2, 0.6, 1.0]) == pytest.approx([0.0, 0.5, 1.0])
    assert normalise([0.3, 0.3]) == [0.5, 0.5] and normalise([]) == []


def test_archive_weights_follow_the_dgm_formula() -> None:
    tree = small_tree()  # vals: root 0.2 (2 children), a 0.6 (1 child), b 1.0, c 0.5
    weights = ArchiveSelection().weights(tree)
    norm = {"root": 0.2, "a": 0.6, "b": 1.0, "c": 0.5}
    children = {"root": 2, "a": 1, "b": 0, "c": 0}
    for sha, val in norm.items():
        s = (val - 0.2) / 0.8
        expected = (1 / (1 + math.exp(-10 * (s - 0.5)))) / (1 + children[sha])
        assert weights[sha] == pytest.approx(expected)
    probabilities = ArchiveSelection().probabilities(tree)
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert max(probabilities, key=probabilities.__getitem__) == "b"
    raw = ArchiveSelection(lam=2.0, midpoint=0.5, minmax=False).weights(tree)
    assert raw["a"] == pytest.approx(sigmoid(2.0 * 0.1) / 2)


def test_weighted_choice_uses_cumulative_weights() -> None:
    items = small_tree().nodes
    weights = [1.0, 0.0, 2.0, 1.0]
    assert weighted_choice(items, weights, MeanRng(0.0)).sha == "root"
    assert weighted_choice(items, weights, MeanRng(0.26)).sha == "b"  # 0.26 * 4 = 1.04
    assert weighted_choice(items, weights, MeanRng(0.99)).sha == "c"
    with pytest.raises(ValueError):
        weighted_choice(items, [0.0] * 4, MeanRng())


def test_archive_selection_frequencies_match_probabilities() -> None:
    tree, rule = small_tree(), ArchiveSelection()
    rng = random.Random(3)
    draws = [rule.select(tree, rng).sha for _ in range(4000)]
    for sha, p in rule.probabilities(tree).items():
        assert draws.count(sha) / len(draws) == pytest.approx(p, abs=0.03)


def test_archive_admission_keeps_working_children_only() -> None:
    parent = Node("p", 0.5, 0.5)
    assert ArchiveAdmission().accept(parent, Node("c", 0.1, 0.0, "p"))
    assert not ArchiveAdmission().accept(parent, Node("c", 0.0, 0.0, "p"))


# -- HGM --------------------------------------------------------------------------------------
def test_clade_counts_pool_descendants_without_mutating_records() -> None:
    tree = small_tree()
    before = [(n.sha, n.val_runs) for n in tree.nodes]
    assert clade_counts(tree, "root") == (pytest.approx(0.4 + 0.6 + 1.0 + 1.5), 7)
    assert clade_counts(tree, "a") == (pytest.approx(2.1), 4)
    assert clade_counts(tree, "b") == (1.0, 1)
    assert [(n.sha, n.val_runs) for n in tree.nodes] == before
    assert tree["a"].successes == 0.6 and tree["a"].evaluations == 1


def test_beta_parameters_and_expansion_rule() -> None:
    assert beta_parameters(2.1, 4) == pytest.approx((3.1, 2.9))
    assert beta_parameters(5.0, 3) == (4.0, 1.0)  # S clipped into [0, n]
    assert should_expand(0, 1)  # 0^0.6 >= 0
    assert should_expand(8, 4)  # 8^0.6 = 3.48 >= 3
    assert not should_expand(10, 5)  # 10^0.6 = 3.98 < 4
    assert should_expand(11, 5)  # 11^0.6 = 4.21 >= 4
    assert not should_expand(11, 5, alpha=0.5)


def test_thompson_parent_uses_clade_statistics() -> None:
    tree = small_tree()
    rng = MeanRng()
    rule = HGMSelection()
    # greedy on clade posterior means: root (1+3.5)/(2+7)=0.5, a 3.1/6=0.517, b 2/3, c 2.5/5
    assert rule.expansion_parent(tree, rng).sha == "b"
    assert rng.beta_calls[1] == pytest.approx((3.1, 2.9))  # a's clade, not its own (1.6, 1.4)
    # evaluation targets use each node's OWN record: a (1.6/3) vs b (2/3) vs c (2.5/5)
    rng = MeanRng()
    assert rule.evaluation_target(tree, rng).sha == "b"
    assert rng.beta_calls[1] == pytest.approx((1.6, 1.4))


def test_a_productive_clade_beats_a_better_childless_node() -> None:
    tree = ImproverTree(
        [
            TreeNode("root", None, (0.5, 0.5)),
            TreeNode("weak", "root", (0.3, 0.3), step=1),  # own 0.3, but a great child
            TreeNode("kid", "weak", (1.0, 1.0, 1.0, 1.0), step=2),
            TreeNode("solo", "root", (0.7, 0.7), step=3),  # own 0.7, no children
        ]
    )
    counts = {n.sha: clade_counts(tree, n.sha) for n in tree.nodes if n.sha in ("weak", "solo")}
    picked = thompson_argmax([tree["weak"], tree["solo"]], counts, MeanRng())
    assert picked.sha == "weak"  # clade 4.6/6 beats 1.4/2


def test_thompson_sampling_is_random_but_seeded() -> None:
    tree, rule = small_tree(), HGMSelection()
    first = [rule.expansion_parent(tree, random.Random(s)).sha for s in range(40)]
    again = [rule.expansion_parent(tree, random.Random(s)).sha for s in range(40)]
    assert first == again and len(set(first)) >= 2


# -- the generic loop on a synthetic meta-utility ---------------------------------------------
@dataclass
class Synthetic:
    """Improver qualities: a child's quality is its parent's plus a fixed step per expansion.

    Every evaluation of a node returns its quality, plus a fixed +-0.05 wobble by run index.
    """

    deltas: tuple[float, ...] = (0.2, -0.3, 0.1, 0.25, -0.1, 0.05, 0.15, -0.2, 0.1, 0.05)
    runs: int = 2

    def __post_init__(self) -> None:
        self.quality = {"root": 0.3}
        self.evaluate_calls: list[str] = []

    def score(self, sha: str, run: int) -> float:
        return round(min(1.0, max(0.0, self.quality[sha] + (0.05 if run % 2 else -0.05))), 6)

    def expand(self, parent: TreeNode, t: int) -> TreeNode:
        sha = f"{parent.sha}/{t}"
        self.quality[sha] = min(1.0, max(0.0, self.quality[parent.sha] + self.deltas[t - 1]))
        vals = tuple(self.score(sha, r) for r in range(self.runs))
        return TreeNode(sha, parent.sha, vals, vals, t)

    def evaluate(self, node: TreeNode) -> tuple[float, float]:
        self.evaluate_calls.append(node.sha)
        value = self.score(node.sha, node.evaluations)
        return value, value

    def root(self) -> ImproverTree:
        vals = tuple(self.score("root", r) for r in range(self.runs))
        return ImproverTree([TreeNode("root", None, vals, vals)])


def test_hgm_alternates_by_the_rule_and_refines_incrementally() -> None:
    world = Synthetic()
    tree = world.root()
    snapshots: list[tuple[int, int, str]] = []

    def on_step(t: ImproverTree, record: StepRecord) -> None:
        snapshots.append((t.total_evaluations(), len(t), record.kind))

    history = grow(
        tree,
        HGMStrategy(iterations=6),
        seed=1,
        expand=world.expand,
        evaluate=world.evaluate,
        on_step=on_step,
    )
    assert sum(r.kind == "expand" for r in history) == 6
    assert any(r.kind == "evaluate" for r in history)
    # each decision followed the rule on the tree as it was before the step
    evals, nodes = 2, 1
    for (after_evals, after_nodes, kind), record in zip(snapshots, history, strict=True):
        assert kind == ("expand" if evals**0.6 >= nodes - 1 else "evaluate")
        assert after_evals == evals + (
            2 if kind == "expand" and record.added else 1 * (kind == "evaluate")
        )
        evals, nodes = after_evals, after_nodes
    # an evaluated node gained exactly one run per evaluation, and its mean is the runs' mean
    for sha in set(world.evaluate_calls):
        node = tree[sha]
        assert node.evaluations == world.runs + world.evaluate_calls.count(sha)
        assert node.val == pytest.approx(sum(node.val_runs) / node.evaluations)


def test_archive_grows_and_rejects_failed_children() -> None:
    world = Synthetic(deltas=(0.2, -0.9, 0.1, 0.25, -0.9, 0.05))
    tree = world.root()
    history = grow(
        tree, ArchiveStrategy(iterations=6), seed=4, expand=world.expand, evaluate=world.evaluate
    )
    assert len(history) == 6 and all(r.kind == "expand" for r in history)
    rejected = [r for r in history if not r.added]
    assert all(world.quality[r.candidate] <= 0.05 for r in rejected if r.candidate)
    assert len(tree) == 1 + sum(r.added for r in history)
    assert world.evaluate_calls == []  # the archive never re-evaluates


@pytest.mark.parametrize("strategy", [ArchiveStrategy(iterations=5), HGMStrategy(iterations=5)])
def test_resuming_from_any_step_gives_the_same_tree(strategy: ArchiveStrategy) -> None:
    world = Synthetic()
    saved: list[tuple[list[dict], list[StepRecord]]] = []
    full: list[StepRecord] = []

    def on_step(t: ImproverTree, record: StepRecord) -> None:
        full.append(record)
        saved.append((t.to_json(), list(full)))

    tree = world.root()
    grow(tree, strategy, seed=9, expand=world.expand, evaluate=world.evaluate, on_step=on_step)
    for rows, history in saved[:-1]:
        resumed = ImproverTree.from_json(rows)
        again = grow(
            resumed, strategy, seed=9, expand=world.expand, evaluate=world.evaluate, history=history
        )
        assert again == full
        assert resumed.to_json() == tree.to_json()
