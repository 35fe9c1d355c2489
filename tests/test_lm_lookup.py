"""Prompt-lookup drafting and the KV prefix store (pure bookkeeping, no model)."""

from __future__ import annotations

import pytest

from selftaught.lm.kv_plan import PrefixStore, common_prefix
from selftaught.lm.lookup import Drafter, LookupConfig, index_ngrams

CONFIG = LookupConfig(max_ngram=3, min_ngram=1, max_draft=4)


def drafter(prompt: list[int], config: LookupConfig = CONFIG) -> Drafter:
    index: dict[tuple[int, ...], int] = {}
    index_ngrams(prompt, config, index)
    return Drafter(prompt, index, config)


def test_a_copied_program_is_drafted_from_the_prompt() -> None:
    program = [10, 11, 12, 13, 14, 15, 16]
    d = drafter([1, 2, *program, 3, 4])
    d.extend([10, 11])
    assert d.draft(10) == [12, 13, 14, 15]  # capped by max_draft
    assert d.draft(2) == [12, 13]  # and by the room left


def test_the_longest_matching_ngram_decides() -> None:
    # "5" is followed by 6 once and by 7 after "4 5": the 2-gram wins over the 1-gram.
    d = drafter([5, 6, 0, 4, 5, 7, 8, 9])
    d.extend([4, 5])
    assert d.draft(3) == [7, 8, 9]


def test_the_reply_so_far_is_searched_too() -> None:
    d = drafter([1, 2, 3])
    d.extend([40, 41, 42, 43, 0, 40, 41])
    assert d.draft(4) == [42, 43, 0, 40]


def test_acceptance_follows_recent_drafts() -> None:
    d = drafter(list(range(20)))
    assert d.acceptance.rate == 0.5
    for _ in range(5):
        d.feedback(4, 4)  # taken whole: no failure
    high = d.acceptance.rate
    assert high > 0.9
    d.feedback(0, 0)  # nothing drafted: no evidence
    assert d.acceptance.rate == high
    for _ in range(5):
        d.feedback(4, 0)
    assert d.acceptance.rate < 0.5


def test_nothing_to_draft_without_a_match() -> None:
    d = drafter([1, 2, 3])
    d.extend([99])
    assert d.draft(4) == []
    assert d.draft(0) == []


def test_invalid_configs_are_refused() -> None:
    with pytest.raises(ValueError):
        LookupConfig(max_ngram=1, min_ngram=2)
    with pytest.raises(ValueError):
        LookupConfig(max_draft=0)
    with pytest.raises(ValueError):
        LookupConfig(max_step_draft=0)


def test_common_prefix() -> None:
    assert common_prefix((1, 2, 3), (1, 2, 4, 5)) == 2
    assert common_prefix((1, 2), (1, 2, 3)) == 2
    assert common_prefix((), (1,)) == 0


def test_prefix_store_finds_the_longest_shared_prefix_and_evicts_the_oldest() -> None:
    store = PrefixStore([8, 9], max_tokens=10)
    assert store.add((1, 2, 3, 4)) == (8, [])
    assert store.add((1, 2, 5)) == (9, [])
    assert store.best((1, 2, 3, 9)) == (8, 3)
    assert store.best((7,)) is None
    # (1, 2, 5) is now the least recently used entry, so a third prompt takes its id.
    assert store.add((6, 6, 6)) == (9, [9])
    assert store.tokens == 7
    assert store.add((1, 2, 3, 4)) == (None, [])  # already kept
    assert store.add(tuple(range(11))) == (None, [])  # longer than the store may hold


def test_prefix_store_makes_room_by_tokens() -> None:
    store = PrefixStore([8, 9, 10], max_tokens=6)
    store.add((1, 2, 3))
    store.add((4, 5, 6))
    seq_id, evicted = store.add((7, 8))
    assert evicted == [8] and seq_id == 8
    assert store.tokens == 5
