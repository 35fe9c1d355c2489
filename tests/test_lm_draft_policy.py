"""The draft policy: measured decode costs and which drafted tokens are worth verifying."""

from __future__ import annotations

from selftaught.lm.draft_policy import DecodeCosts, plan_drafts

# Seconds per decode as measured for the 1.5B on 2 cores (2 threads): nearly linear in the batch.
CPU = {1: 0.033, 2: 0.049, 4: 0.077, 5: 0.095, 8: 0.136, 16: 0.162, 20: 0.21}


def costs(table: dict[int, float], threads: int = 2) -> DecodeCosts:
    c = DecodeCosts()
    for size, seconds in table.items():
        c.record(threads, size, seconds)
    return c


def test_costs_are_interpolated_and_optimistic_above_what_was_measured() -> None:
    c = costs({1: 0.03, 5: 0.07})
    assert c.estimate(2, 3) == 0.05
    assert c.estimate(2, 9) == 0.07
    assert c.estimate(1, 3) is None  # another thread count has its own table
    c.record(2, 5, 0.17)
    assert abs(c.estimate(2, 5) - 0.10) < 1e-9  # a moving average, not the last value


def test_nothing_is_drafted_before_a_plain_step_was_measured() -> None:
    assert plan_drafts([10], [0.99], DecodeCosts(), 2, 16) == [0]


def test_a_copying_single_sequence_drafts_and_a_guessing_one_does_not() -> None:
    assert plan_drafts([15], [0.95], costs(CPU), 2, 16) == [15]
    assert plan_drafts([15], [0.3], costs(CPU), 2, 16) == [0]


def test_with_several_sequences_only_the_likely_drafts_are_verified() -> None:
    # Four live sequences already fill a batch of 4; only the copying one's drafts are worth it.
    kept = plan_drafts([15, 15, 15, 15], [0.97, 0.3, 0.3, 0.3], costs(CPU), 2, 16)
    assert kept[0] > 0 and kept[1:] == [0, 0, 0]
    assert sum(kept) <= 16


def test_the_cap_bounds_the_drafted_tokens_of_a_step() -> None:
    flat = costs({n: 0.05 for n in range(1, 40)})  # batches cost nothing more: draft all allowed
    assert sum(plan_drafts([10, 10, 10], [0.9, 0.9, 0.9], flat, 2, 12)) == 12


def test_an_unmeasured_larger_batch_is_tried() -> None:
    assert plan_drafts([6], [0.5], costs({1: 0.03}), 2, 16) == [6]
