"""Admission planning of the batched llama.cpp engine (no model needed)."""

from __future__ import annotations

import pytest

from selftaught.errors import InvalidLMRequest, PromptTooLong
from selftaught.lm.kv_plan import KvBudget
from selftaught.lm.llama_engine import LlamaEngine

A = tuple(range(100))
B = tuple(range(1000, 1300))


def test_shared_prompt_is_reserved_once() -> None:
    budget = KvBudget(700)
    for _ in range(6):
        assert budget.fits(A, 100)
        budget.admit(A, 100)
    assert budget.reserved == 700  # 100 prompt + 6 * 100 generated
    assert not budget.fits(A, 1)


def test_release_frees_the_prompt_with_its_last_user() -> None:
    budget = KvBudget(10_000)
    budget.admit(A, 50)
    budget.admit(A, 50)
    budget.admit(B, 10)
    assert budget.reserved == 100 + 100 + 300 + 10
    budget.release(A, 50)
    assert budget.reserved == 100 + 50 + 310
    budget.release(A, 50)
    assert budget.reserved == 310
    assert budget.cost(A, 50) == 150  # A must be prefilled again


def test_distinct_prompts_each_pay_their_prefill() -> None:
    budget = KvBudget(800)
    budget.admit(B, 50)
    budget.admit(B, 50)
    assert budget.cost(B, 50) == 50
    assert budget.cost(A, 50) == 150
    assert budget.fits(A, 300) and not budget.fits(A, 301)


def test_generation_is_clipped_to_the_context_and_too_long_prompts_fail() -> None:
    eng = LlamaEngine.__new__(LlamaEngine)  # planning only: no llama.cpp context
    eng.n_ctx = 1000
    assert eng.fit_limit(100, 64) == 64
    assert eng.fit_limit(900, 1024) < 100
    with pytest.raises(PromptTooLong, match="1000 tokens but the context holds 1000"):
        eng.fit_limit(1000, 10)
    assert issubclass(PromptTooLong, InvalidLMRequest)
