"""The meta level's feedback: digests of downstream candidates, copies recognised as copies."""

from __future__ import annotations

from pathlib import Path

from loop_support import ScriptedBackend, local_channel_factory, marker_score
from selftaught.core.feedback import Candidate, digest, failure_kind, same_program
from selftaught.search.plumbing import Plumbing
from selftaught.search.run import run_stop
from selftaught.store.db import RunStore
from test_loop_chain import CONFIG, LAZY, SEED

SKLEARN = "ModuleNotFoundError: No module named 'sklearn'"


def test_a_digest_counts_valid_candidates_and_groups_failures() -> None:
    found = [
        Candidate(0.0, f"{SKLEARN} (first at instance 0); 20 of 20 instances failed"),
        Candidate(0.0, f"{SKLEARN} (first at instance 3); 17 of 20 instances failed"),
        Candidate(0.0, "invalid answer: expected 20 labels, got 19"),
        Candidate(0.52, None),
    ]
    text = digest(found, start_score=0.497)
    assert "4 candidate program(s) scored: 1 valid (score above 0), best 0.520" in text
    assert "(the starting program scores 0.497)" in text
    assert "2 x ModuleNotFoundError: No module named 'sklearn'" in text
    assert "1 x invalid answer: expected N labels, got N" in text
    assert "no candidate" in digest([])


def test_failure_kinds_drop_counts_and_mask_numbers() -> None:
    kind = failure_kind(
        "Traceback ...\n  line 3\nValueError: bad 12 (first at instance 4); 2 of 9 instances failed"
    )
    assert kind == "ValueError: bad N"


def test_failure_kinds_drop_the_failing_line() -> None:
    kinds = {
        failure_kind(
            f"error: NameError: name 'x' is not defined, {where}: `{line}` (first at"
            " instance 0); 3 of 3 instances failed"
        )
        for where, line in (("in f()", "return x"), ("at the top level", "y = x + 1"))
    }
    assert kinds == {"error: NameError: name 'x' is not defined"}


def test_same_program_ignores_formatting_and_comments_only() -> None:
    assert same_program("def f(x):\n    return x  # id\n", "def f(x):\n\n    return (x)\n")
    assert not same_program("def f(x):\n    return x\n", "def f(x):\n    return x + 1\n")
    assert not same_program("def f(:", "def f(x):\n    return x\n")


class Listening(ScriptedBackend):
    """The scripted model, also keeping every user message it was sent."""

    def __init__(self, meta_answer: str) -> None:
        super().__init__(meta_answer)
        self.users: list[str] = []

    def generate(self, requests):  # type: ignore[no-untyped-def]
        self.users += [next(t for r, t in reversed(q.messages) if r == "user") for q in requests]
        return super().generate(requests)


def scripted_run(tmp_path: Path, meta_answer: str) -> tuple[dict, Listening]:
    backend = Listening(meta_answer)
    plumbing = Plumbing(
        backend=backend, channel_factory=local_channel_factory, score_fn=marker_score
    )
    return run_stop(CONFIG, tmp_path, plumbing=plumbing), backend


def test_the_meta_level_is_shown_the_parents_digest_and_strategy_families(tmp_path: Path) -> None:
    _, backend = scripted_run(tmp_path, LAZY)
    meta = [u for u in backend.users if "def meta_utility" in u]
    assert meta, "no meta-level prompt was sent"
    # t=0's two seed-improver runs each scored the two GOOD answers of the scripted model
    flat = " ".join(line.lstrip("# ").strip() for line in meta[0].splitlines())
    assert "4 candidate program(s) scored: 4 valid (score above 0), best 0.600" in flat
    assert "keep the input: return whichever of initial_solution and the best candidate" in flat
    store = RunStore(tmp_path, read_only=True)
    kinds = {k for (k,) in store.query("SELECT DISTINCT kind FROM events")}
    assert "candidate" in kinds


def test_a_copy_of_the_parent_is_neither_rescored_nor_adopted(tmp_path: Path) -> None:
    summary, _ = scripted_run(tmp_path, SEED + "\n# reformatted\n")
    its = summary["iterations"]
    assert [it["adopted"] for it in its] == [True, False, False]
    store = RunStore(tmp_path, read_only=True)
    unchanged = store.query("SELECT COUNT(*) FROM events WHERE kind = 'unchanged_candidate'")
    assert unchanged == [(2,)]
    notes = store.query("SELECT detail FROM events WHERE kind = 'unchanged_candidate'")
    assert all("(reformatted)" in detail for (detail,) in notes)
    # only the seed improver's own meta-utility runs exist: the copies cost no sessions
    assert store.query("SELECT COUNT(*) FROM sessions WHERE key LIKE 'meta/%'") == [(2,)]


def test_a_verbatim_copy_is_called_unchanged(tmp_path: Path) -> None:
    scripted_run(tmp_path, SEED)
    store = RunStore(tmp_path, read_only=True)
    notes = store.query("SELECT detail FROM events WHERE kind = 'unchanged_candidate'")
    assert notes and all("(unchanged)" in detail for (detail,) in notes)
