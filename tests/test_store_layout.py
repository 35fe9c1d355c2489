"""`store.layout` owns the run directory's names and key formats; `store.kind` says which search
a directory holds. Both are what every other package reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selftaught.config import RunConfig
from selftaught.core.jobs import SessionJob, downstream_offset, sample_block
from selftaught.errors import ConfigError
from selftaught.store.db import IterationRecord, RunStore, SessionRecord, sha256_text
from selftaught.store.kind import claim_search, held_search, search_kind
from selftaught.store.layout import (
    COMPARE_KEY,
    COMPARE_RESULT,
    SEARCH_KEY,
    TREE_KEY,
    SessionKey,
    downstream_start,
    is_meta_level,
    meta_start,
    parse_session_key,
    purpose_of,
    self_improve_key,
    start_of,
)
from selftaught.tasks import get_task


def test_a_job_key_is_the_layout_key_and_parses_back() -> None:
    task = get_task("maxcut")
    job = SessionJob.make("improver source", task, task.seed_solution, 3, "transfer[openai:m]")
    key = parse_session_key(job.key)
    assert key == SessionKey.make(
        "transfer[openai:m]",
        sha256_text("improver source"),
        task.identity,
        sha256_text(task.seed_solution),
        3,
    )
    assert str(key) == job.key
    assert (len(key.improver), len(key.start), key.run_index) == (20, 12, 3)
    assert purpose_of(job.key) == "transfer[openai:m]" and start_of(job.key) == key.start


def test_keys_that_are_not_improver_runs() -> None:
    assert self_improve_key(4) == "self-improve/t4"
    assert parse_session_key(self_improve_key(4)) is None
    assert start_of(self_improve_key(4)) == "" and purpose_of(self_improve_key(4)) == "self-improve"
    assert parse_session_key("meta/a/b/c/x1") is None  # the run part is `rN`


def test_sample_blocks_never_overlap() -> None:
    config = RunConfig(seed=2, lm_budget=3, max_responses_per_call=4)
    assert downstream_offset(config, 5) == downstream_start(2, 5) == 20_050_000
    assert sample_block(config, 5) == range(20_050_000, 20_050_012)
    assert meta_start(2, 1) == 25_010_000 and is_meta_level(meta_start(2, 1))
    assert not is_meta_level(downstream_start(2, 499))


def test_held_search_answers_for_every_kind_of_directory(tmp_path: Path) -> None:
    assert search_kind(tmp_path / "missing") is None
    store = RunStore(tmp_path / "new")
    assert held_search(store.query) is None
    store.add_iteration(IterationRecord(0, "s", 0.5, 0.4, True, None, None, None))
    assert held_search(store.query) == "chain"  # a bare `run_stop` chain: never claimed
    claim_search(store, "chain")
    with pytest.raises(ConfigError, match="--search chain"):
        claim_search(store, "hgm")
    store.set_meta(SEARCH_KEY, "hgm")
    store.set_meta(TREE_KEY, json.dumps({}))
    assert held_search(store.query) == "hgm"
    store.close()
    assert search_kind(tmp_path / "new") == "hgm"

    compare = RunStore(tmp_path / "compare")
    record = SessionRecord("compare/a/b/c/r0", "a", "maxcut", None, 0.0, 0.0, "ok", None, 0, 0)
    compare.add_session(record)
    assert held_search(compare.query) == "compare"
    with pytest.raises(ConfigError, match="compare"):
        claim_search(compare, "chain")
    compare.set_meta(COMPARE_KEY, "{}")
    compare.close()
    assert search_kind(tmp_path / "compare") == "compare"

    finished = RunStore(tmp_path / "finished")
    finished.close()
    (tmp_path / "finished" / COMPARE_RESULT).write_text("{}")
    assert search_kind(tmp_path / "finished") == "compare"
