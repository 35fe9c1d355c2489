"""Recording and replay, including exchanges recorded from the real embedded 0.5B model.

Regenerate the fixture (real model output, a few minutes on 2 cores) with:
    PYTHONPATH=src .venv/bin/python tests/test_lm_replay.py --record
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from selftaught.errors import ConfigError, ReplayMiss
from selftaught.lm import (
    BudgetedLanguageModel,
    RecordingBackend,
    ReplayBackend,
    Sample,
    SampleRequest,
    Usage,
    open_model,
)
from selftaught.lm.types import UsageMeter

FIXTURE = Path(__file__).parent / "fixtures" / "recordings" / "lm_qwen05b.jsonl"
RECORDED_SPEC = "embedded:qwen2.5-coder-0.5b"
EXPERT = "You are an expert Python programmer. Answer with code only."
MAX_TOKENS = 96


def scripted_session(lm: BudgetedLanguageModel) -> list[list[str]]:
    """The calls recorded in the fixture; replaying them must hit every recorded key."""
    return [
        lm.prompt(EXPERT, "Write a Python function add(a, b) that returns a + b.", 2, 0.7),
        lm.batch_prompt(
            EXPERT,
            [
                "Write a Python function is_even(n) that returns True for even n.",
                "Write a Python function reverse(s) that reverses a string.",
                "Write a Python function is_even(n) that returns True for even n.",
            ],
            temperature=0.7,
        ),
        lm.prompt(EXPERT, "Write a Python function square(x) that returns x * x.", 1, 0.0),
    ]


class Fixed:
    """A test double answering from a dict, so recording can be checked without a model."""

    spec = "fixed"

    def __init__(self) -> None:
        self._meter = UsageMeter()

    @property
    def usage(self) -> Usage:
        return self._meter.total

    def generate(self, requests: Sequence[SampleRequest]) -> list[list[Sample]]:
        return [[Sample(f"ans{i}", 1, 1, 0.0) for i in r.indices] for r in requests]


def test_recorded_real_session_replays_in_order() -> None:
    lm = BudgetedLanguageModel(open_model(f"replay:{FIXTURE}"), budget=3, max_tokens=MAX_TOKENS)
    add, batch, square = scripted_session(lm)
    assert len(add) == 2 and all("def add" in a for a in add)
    assert [("is_even" in t, "reverse" in t) for t in batch] == [
        (True, False),
        (False, True),
        (True, False),
    ]
    assert "def square" in square[0]
    records = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    assert {r["spec"] for r in records} == {RECORDED_SPEC}
    # The two identical batch messages got distinct sample indices, hence their own samples.
    assert batch[0] == next(
        r["text"] for r in records if "is_even" in r["messages"][1][1] and r["sample_index"] == 0
    )
    assert batch[2] == next(
        r["text"] for r in records if "is_even" in r["messages"][1][1] and r["sample_index"] == 1
    )


def test_replay_ignores_the_spec_it_was_recorded_under() -> None:
    backend = ReplayBackend(FIXTURE, spec="anything")
    lm = BudgetedLanguageModel(backend, budget=3, max_tokens=MAX_TOKENS)
    assert scripted_session(lm)[0]
    assert backend.usage.samples == 6


def test_unrecorded_prompt_raises_replay_miss_naming_it() -> None:
    lm = BudgetedLanguageModel(ReplayBackend(FIXTURE), budget=5, max_tokens=MAX_TOKENS)
    with pytest.raises(ReplayMiss, match="Write a sonnet"):
        lm.prompt(EXPERT, "Write a sonnet about caches.")
    # A recorded prompt at another temperature or sample index is a miss too, never a guess.
    with pytest.raises(ReplayMiss, match=r"temperature=0\.3"):
        lm.prompt(EXPERT, "Write a Python function add(a, b) that returns a + b.", 1, 0.3)
    with pytest.raises(ReplayMiss, match="sample 2"):
        lm.prompt(EXPERT, "Write a Python function add(a, b) that returns a + b.", 3, 0.7)


def test_recorder_writes_lines_that_replay_reads(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    recorder = RecordingBackend(Fixed(), path)
    msgs = (("user", "q"),)
    first = recorder.generate([SampleRequest(msgs, 2, 0.5, 10, first_index=4)])
    assert [s.text for s in first[0]] == ["ans4", "ans5"]
    assert len(path.read_text().splitlines()) == 2
    replay = ReplayBackend(path)
    again = replay.generate([SampleRequest(msgs, 2, 0.5, 10, first_index=4)])
    assert [s.text for s in again[0]] == ["ans4", "ans5"]


def test_open_model_record_argument_records_cache_hits_too(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    source = tmp_path / "src.jsonl"
    RecordingBackend(Fixed(), source).generate([SampleRequest((("user", "q"),), 1, 0.5)])
    backend = open_model(f"replay:{source}", record=path)
    backend.generate([SampleRequest((("user", "q"),), 1, 0.5)])
    [line] = path.read_text().splitlines()
    assert json.loads(line)["text"] == "ans0"


def test_truncated_last_line_is_ignored_but_corrupt_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    RecordingBackend(Fixed(), path).generate([SampleRequest((("user", "q"),), 2, 0.5)])
    text = path.read_text()
    path.write_text(text + '{"messages": [["user", "x"')
    assert len(ReplayBackend(path)) == 2
    path.write_text('{"oops": 1}\n' + text)
    with pytest.raises(ConfigError, match="line 1"):
        ReplayBackend(path)


def test_missing_replay_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        open_model(f"replay:{tmp_path / 'nope.jsonl'}")


def record_fixture() -> None:
    """Re-record the fixture from the real embedded 0.5B model."""
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.unlink(missing_ok=True)
    backend = open_model(RECORDED_SPEC, cache=False, record=FIXTURE)
    for answers in scripted_session(BudgetedLanguageModel(backend, 3, max_tokens=MAX_TOKENS)):
        for a in answers:
            print("----\n" + a)
    print(backend.usage)


if __name__ == "__main__":
    if "--record" in sys.argv:
        record_fixture()
