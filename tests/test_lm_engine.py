"""Wave planning of the batched llama.cpp engine (no model needed)."""

from __future__ import annotations

import pytest

from selftaught.errors import InvalidLMRequest, PromptTooLong
from selftaught.lm.llama_engine import LlamaEngine, SeqJob


def engine(n_ctx: int) -> LlamaEngine:
    eng = LlamaEngine.__new__(LlamaEngine)  # planning only: no llama.cpp context
    eng.n_ctx = n_ctx
    return eng


def jobs(prompt_len: int, count: int, max_tokens: int, tag: int = 0) -> list[SeqJob]:
    prompt = tuple([tag] * prompt_len)
    return [SeqJob(prompt, seed=i, temperature=0.7, max_tokens=max_tokens) for i in range(count)]


def test_shared_prompt_is_counted_once_per_wave() -> None:
    # 100 prompt + 6 * 100 generated = 700 cells: one wave in 1000 cells.
    assert engine(1000).waves(jobs(100, 6, 100), width=8) == [[0, 1, 2, 3, 4, 5]]


def test_width_limits_sequences_per_wave() -> None:
    assert engine(100_000).waves(jobs(10, 10, 10), width=4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_kv_capacity_splits_waves() -> None:
    # 200 prompt + k * 300 must fit in 1000 - margin: two sequences per wave.
    assert engine(1000).waves(jobs(200, 5, 300), width=8) == [[0, 1], [2, 3], [4]]


def test_distinct_prompts_each_pay_their_prefill() -> None:
    plan = engine(1000).waves(jobs(300, 2, 50, tag=1) + jobs(300, 2, 50, tag=2), width=8)
    assert plan == [[0, 1, 2, 3]]  # 300 + 300 + 4 * 50 = 800 cells
    plan = engine(800).waves(jobs(300, 2, 50, tag=1) + jobs(300, 2, 50, tag=2), width=8)
    assert plan == [[0, 1, 2], [3]]


def test_generation_is_clipped_to_the_context_and_too_long_prompts_fail() -> None:
    eng = engine(1000)
    assert eng.fit_limit(900, 1024) < 100
    with pytest.raises(PromptTooLong, match="1000 tokens but the context holds 1000"):
        eng.fit_limit(1000, 10)
    assert issubclass(PromptTooLong, InvalidLMRequest)
