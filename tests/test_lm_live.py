"""Live: load the real embedded 0.5B model and generate (runs in CI; `make test` installs it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selftaught.lm import MODELS, SampleRequest, open_model
from selftaught.lm.assemble import model_status
from selftaught.lm.catalog import llama_cpp_installed

SPEC = "embedded:qwen2.5-coder-0.5b"
FIXTURE = Path(__file__).parent / "fixtures" / "recordings" / "lm_qwen05b.jsonl"

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not llama_cpp_installed(), reason="llama-cpp-python is not installed (selftaught[embedded])"
    ),
    pytest.mark.skipif(
        not model_status(MODELS["qwen2.5-coder-0.5b"]).installed,
        reason="the 0.5B weight packages are not installed (selftaught[embedded])",
    ),
]


@pytest.fixture(scope="module")
def backend():  # type: ignore[no-untyped-def]
    return open_model(SPEC, cache=False, progress=False)


def test_short_completion_is_real_and_deterministic(backend) -> None:  # type: ignore[no-untyped-def]
    msgs = (("user", "Complete this Python line: def add(a, b): return"),)
    request = SampleRequest(msgs, 2, 0.8, max_tokens=16, first_index=0)
    [first] = backend.generate([request])
    [again] = backend.generate([request])
    assert all(0 < s.completion_tokens <= 16 for s in first)
    assert all(s.text.strip() for s in first)
    # Seeds come from the sample key: the same key gives the same text without any cache.
    assert [s.text for s in again] == [s.text for s in first]
    assert backend.usage.samples == 4
    assert backend.usage.prompt_tokens > 0


def test_recorded_greedy_answer_is_reproduced(backend) -> None:  # type: ignore[no-untyped-def]
    greedy = [
        r for r in map(json.loads, FIXTURE.read_text().splitlines()) if r["temperature"] == 0.0
    ]
    assert greedy, "the fixture must contain a temperature-0 exchange"
    rec = greedy[0]
    msgs = tuple((role, content) for role, content in rec["messages"])
    [[sample]] = backend.generate(
        [SampleRequest(msgs, 1, 0.0, rec["max_tokens"], rec["sample_index"])]
    )
    assert sample.text == rec["text"]


def test_a_stop_string_ends_decoding_where_the_unstopped_reply_has_it(backend) -> None:  # type: ignore[no-untyped-def]
    msgs = (("user", "Write a Python function that adds two numbers, in a code block."),)
    [[full]] = backend.generate([SampleRequest(msgs, 1, 0.0, max_tokens=96)])
    assert "\n" in full.text
    stop = full.text.split("\n")[1][:4] or "\n"  # a stop string met early in the greedy reply
    [[cut]] = backend.generate([SampleRequest(msgs, 1, 0.0, max_tokens=96, stop=(stop,))])
    assert cut.text == full.text[: full.text.index(stop)]
    assert cut.completion_tokens < full.completion_tokens  # decoding halted, not only trimmed


def test_a_halt_string_ends_decoding_and_the_reply_keeps_it(backend) -> None:  # type: ignore[no-untyped-def]
    msgs = (("user", "Write a Python function that adds two numbers, in a code block."),)
    [[full]] = backend.generate([SampleRequest(msgs, 1, 0.0, max_tokens=96)])
    halt = full.text.split("\n")[1][:4] or "\n"
    [[kept]] = backend.generate([SampleRequest(msgs, 1, 0.0, max_tokens=96, halt=(halt,))])
    assert kept.text == full.text[: full.text.index(halt) + len(halt)]
    assert kept.completion_tokens < full.completion_tokens
