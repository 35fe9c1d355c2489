"""The chain search with scripted model answers: acceptance policies, stored iterations, resume."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from loop_support import ScriptedBackend, local_channel_factory, marker_score
from selftaught.config import RunConfig
from selftaught.core.meta import STRATEGY_FAMILIES
from selftaught.search.plumbing import Plumbing
from selftaught.search.policies import GatedAcceptance, Node, PaperAcceptance
from selftaught.search.run import run_stop
from selftaught.store.db import RunStore, sha256_text

SEED = resources.files("selftaught.improvers").joinpath("seed.py").read_text()
# An improver that ignores the language model: it returns its input, so û drops to the seed
# solution's score.
LAZY = (
    "def improve_algorithm(initial_solution, utility, language_model):\n    return initial_solution"
)
CONFIG = RunConfig(
    model="scripted",
    iterations=2,
    runs=2,
    max_responses_per_call=2,
    meta_utility_budget=2,
    batch_window_seconds=0.05,
)


def run(tmp_path: Path, config: RunConfig, meta_answer: str = LAZY) -> dict:
    plumbing = Plumbing(
        backend=ScriptedBackend(meta_answer),
        channel_factory=local_channel_factory,
        score_fn=marker_score,
    )
    return run_stop(config, tmp_path, plumbing=plumbing)


def test_policies() -> None:
    parent, worse, better = Node("p", 0.5, 0.5), Node("w", 0.2, 0.9), Node("b", 0.6, 0.1)
    assert GatedAcceptance().accept(parent, better) and not GatedAcceptance().accept(parent, worse)
    assert PaperAcceptance().accept(parent, worse)
    assert not PaperAcceptance().accept(parent, Node("z", 0.0, 0.0))


def test_gated_acceptance_refuses_a_zero_tie() -> None:
    zero_parent, crashed = Node("p", 0.0, 0.0), Node("c", 0.0, 0.0)
    assert not GatedAcceptance().accept(zero_parent, crashed)
    assert GatedAcceptance().accept(zero_parent, Node("g", 0.1, 0.0))


def test_gated_acceptance_keeps_the_parent_on_a_tie() -> None:
    # an equal score (a copy, or an edit that changes nothing) is no gain: the parent stays
    parent = Node("p", 0.47, 0.5)
    assert not GatedAcceptance().accept(parent, Node("same", 0.47, 0.9))
    assert GatedAcceptance().accept(parent, Node("up", 0.48, 0.1))


def test_gated_mode_keeps_the_better_parent(tmp_path: Path) -> None:
    summary = run(tmp_path, CONFIG)
    its = summary["iterations"]
    assert [it["t"] for it in its] == [0, 1, 2]
    assert its[0]["meta_utility_val"] == 0.6 and its[0]["meta_utility_test"] == 0.3
    assert [it["adopted"] for it in its] == [True, False, False]
    assert {it["improver_sha256"] for it in its} == {sha256_text(SEED)}
    store = RunStore(tmp_path)
    lazy = sha256_text(LAZY)
    assert store.query("SELECT parent FROM programs WHERE sha256 = ?", (lazy,)) == [
        (sha256_text(SEED),)
    ]
    assert summary["circumvention"]["improvements"] == 1
    assert (tmp_path / "config.toml").is_file() and (tmp_path / "summary.json").is_file()


def test_paper_mode_adopts_any_positive_candidate(tmp_path: Path) -> None:
    summary = run(tmp_path, CONFIG.replace(paper_mode=True))
    its = summary["iterations"]
    assert [it["adopted"] for it in its] == [True, True, True]
    assert its[1]["improver_sha256"] == sha256_text(LAZY)
    assert its[1]["meta_utility_val"] == 0.2


def test_rerun_into_the_same_directory_repeats_nothing(tmp_path: Path) -> None:
    first = run(tmp_path, CONFIG)
    backend = ScriptedBackend(LAZY)
    plumbing = Plumbing(
        backend=backend, channel_factory=local_channel_factory, score_fn=marker_score
    )
    again = run_stop(CONFIG, tmp_path, resume=True, plumbing=plumbing)
    assert again == first
    assert backend.requests == 0  # every session and iteration came from the store


class OpeningsSeen(ScriptedBackend):
    """ScriptedBackend that also notes the new step each continued meta reply was opened with."""

    def __init__(self, meta_answer: str) -> None:
        super().__init__(meta_answer)
        self.steps: list[str] = []

    def generate(self, requests: list) -> list[list]:
        for request in requests:
            role, text = request.messages[-1]
            if role == "assistant" and "# New step: " in text:
                self.steps += [text.rsplit("# New step: ", 1)[1].strip()] * request.n
        return super().generate(requests)


def test_continued_meta_replies_open_a_different_strategy_family_each(tmp_path: Path) -> None:
    backend = OpeningsSeen(LAZY)
    config = CONFIG.replace(decoding="code", meta_continue=True)
    plumbing = Plumbing(backend=backend, channel_factory=local_channel_factory,
                        score_fn=marker_score)  # fmt: skip
    run_stop(config, tmp_path, plumbing=plumbing)
    # T=2 steps of 2 replies each: the first four families, in turn; none twice
    assert backend.steps == [f"{family}." for family in STRATEGY_FAMILIES[:4]]
