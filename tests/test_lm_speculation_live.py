"""Live (0.5B model): speculation and kept prompts change speed, never the text.

Greedy text must be identical with and without prompt-lookup speculation; at T > 0 the sampler
draws once per kept token, so the seeded text is the same too. A prompt sharing a long prefix
with an earlier call's prompt reuses its KV cells and still gives the same greedy text.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from selftaught.lm import MODELS, SampleRequest
from selftaught.lm.assemble import model_status
from selftaught.lm.catalog import llama_cpp_installed
from selftaught.lm.llama_engine import SeqJob

RECORDING = Path(__file__).parent / "fixtures" / "recordings" / "improvers_genetic.jsonl"

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not llama_cpp_installed(), reason="llama-cpp-python is not installed"),
    pytest.mark.skipif(
        not model_status(MODELS["qwen2.5-coder-0.5b"]).installed,
        reason="the 0.5B weight packages are not installed (selftaught[embedded])",
    ),
]


@pytest.fixture(scope="module")
def backend():  # type: ignore[no-untyped-def]
    from selftaught.lm.assemble import ensure_model
    from selftaught.lm.llama_backend import LlamaBackend

    b = LlamaBackend(ensure_model(MODELS["qwen2.5-coder-0.5b"], progress=False), spec="test")
    yield b
    b.close()


def improve_prompt(backend, ending: str = "") -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    record = json.loads(RECORDING.read_text().splitlines()[0])
    (system, s), (user, u) = record["messages"]
    return backend.prompt_tokens(((system, s), (user, u + ending)))


def verify_every_draft(lengths, *args):  # type: ignore[no-untyped-def]
    return list(lengths)


def run(backend, jobs, *, lookup: bool):  # type: ignore[no-untyped-def]
    """Decode without speculation, or verifying every drafted token: the text must not depend
    on which drafts the policy keeps, and the draft policy (which follows measured costs, so
    the load) must not decide whether these tests exercise speculation."""
    engine = backend.engine
    saved = engine.config
    if not lookup:
        engine.config = dataclasses.replace(saved, lookup=None)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("selftaught.lm.llama_engine.plan_drafts", verify_every_draft)
            engine.forget_prefixes()
            return engine.run(jobs, 4)
    finally:
        engine.config = saved


def test_speculation_keeps_greedy_and_seeded_text(backend) -> None:  # type: ignore[no-untyped-def]
    prompt = improve_prompt(backend)
    jobs = [SeqJob(prompt, 7, 0.0, 80), SeqJob(prompt, 11, 0.7, 80), SeqJob(prompt, 12, 0.7, 80)]
    plain = run(backend, jobs, lookup=False)
    fast = run(backend, jobs, lookup=True)
    assert [r.text for r in fast] == [r.text for r in plain]
    assert all(r.completion_tokens > 20 for r in fast)
    assert all(r.drafted == 0 for r in plain)
    # The replies copy code from the prompt, so drafts are taken: the test exercises speculation.
    assert sum(r.accepted for r in fast) > 20


def test_a_kept_prompt_is_reused_without_changing_the_text(backend) -> None:  # type: ignore[no-untyped-def]
    # A second instruction after the same program and utility text, as a session's next call.
    first, second = improve_prompt(backend), improve_prompt(backend, "\nKeep it short.")
    shared = next(i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b)
    assert shared > 400
    engine = backend.engine
    engine.forget_prefixes()
    [fresh] = engine.run([SeqJob(second, 1, 0.0, 48)], 4)
    assert fresh.prompt_tokens == len(second)
    engine.forget_prefixes()
    engine.run([SeqJob(first, 1, 0.0, 8)], 4)
    [reused] = engine.run([SeqJob(second, 1, 0.0, 48)], 4)
    assert reused.prompt_tokens == len(second) - shared
    assert reused.text == fresh.text


def test_a_stop_string_met_while_copying_ends_the_text_as_plain_decoding_does(backend) -> None:  # type: ignore[no-untyped-def]
    prompt = improve_prompt(backend)
    program = json.loads(RECORDING.read_text().splitlines()[0])["messages"][-1][1]
    [full] = run(backend, [SeqJob(prompt, 7, 0.0, 160)], lookup=True)
    # The last line the reply copies from the program: by then drafts are being taken.
    copied = [ln for ln in full.text.split("\n")[4:-1] if len(ln.strip()) > 10 and ln in program]
    assert copied, "the reply should copy lines of the program"
    stop = copied[-1].strip()
    job = SeqJob(prompt, 7, 0.0, 160, (stop.encode(),))
    [plain] = run(backend, [job], lookup=False)
    [fast] = run(backend, [job], lookup=True)
    assert fast.text == plain.text == full.text[: full.text.index(stop)]
    assert fast.completion_tokens == plain.completion_tokens < full.completion_tokens
    assert fast.accepted > 0


def test_requests_that_differ_only_in_their_stops_each_end_at_their_own(backend) -> None:  # type: ignore[no-untyped-def]
    record = json.loads(RECORDING.read_text().splitlines()[0])
    messages = tuple((role, text) for role, text in record["messages"])
    [[full]] = backend.generate([SampleRequest(messages, 1, 0.0, 48)])
    stop = full.text.split()[len(full.text.split()) // 2]
    asks = [SampleRequest(messages, 1, 0.0, 48), SampleRequest(messages, 1, 0.0, 48, stop=(stop,))]
    [[whole], [stopped]] = backend.generate(asks)
    # Merged into one decode (the bug), both replies would end at the same place.
    assert stop in whole.text
    assert stopped.text == whole.text[: whole.text.index(stop)]
