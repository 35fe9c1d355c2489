"""What crosses from a worker to the driver (no Ray needed): genuine replies are accepted and
apply to the run store as a local run writes it; forged replies are refused before they reach it.

The genuine reply comes from `run_session_job` run in this process on the replay recording's
config (a real sandboxed session answered by REAL recorded model responses).
"""

from __future__ import annotations

import copy
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from execute_support import RECORDING, TABLES, result_rows, write_config
from selftaught.config import RunConfig, load_config
from selftaught.core.jobs import SessionJob, sample_block
from selftaught.core.meta import load_improver
from selftaught.errors import ConfigError, ReplayMiss, SandboxError, SelftaughtError
from selftaught.execute.local import LocalExecutor
from selftaught.execute.wire import (
    ExecutorError,
    check_evaluation_reply,
    check_session_reply,
    error_reply,
    raise_if_error,
    session_request,
)
from selftaught.execute.worker import run_session_job
from selftaught.search.context import loop_context
from selftaught.search.plumbing import Plumbing
from selftaught.store.db import RunStore
from selftaught.store.recorder import CorruptRecording, apply_operations
from selftaught.tasks import get_task

pytestmark = pytest.mark.skipif(not RECORDING.is_file(), reason="recording missing")

Reply = dict[str, Any]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Workers keep node-local response caches under the cache root: a fresh one here."""
    path = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SELFTAUGHT_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> RunConfig:
    return load_config(write_config(tmp_path_factory.mktemp("cfg")))


def seed_job(run_index: int = 0) -> SessionJob:
    task = get_task("parity_noise")
    return SessionJob.make(load_improver("seed"), task, task.seed_solution, run_index)


@pytest.fixture(scope="module")
def genuine(config: RunConfig, cache_dir: Path) -> str:
    """A worker's real answer to the seed improver's first run."""
    return run_session_job(session_request(config, seed_job(), "wire-test"), "[]")


def forge(genuine: str, change: Callable[[Reply], Any]) -> str:
    reply = copy.deepcopy(json.loads(genuine))
    change(reply)
    return json.dumps(reply)


def ops(reply: Reply, kind: str) -> list[list[Any]]:
    return [op for op in reply["operations"] if op[0] == kind]


# -- genuine replies ------------------------------------------------------------------------------
def test_a_genuine_reply_is_accepted(config: RunConfig, genuine: str) -> None:
    checked = check_session_reply(config, seed_job(), genuine)
    job = seed_job()
    assert checked.record.key == job.key and checked.record.task == job.task.identity
    assert checked.record.lm_calls == 1 and checked.record.status == "ok"
    # the recording answers both samples of the run's one call, inside the run's block
    block = sample_block(config, 0)
    samples = [op for op in checked.operations if op[0] == "lm_sample"]
    assert checked.samples == len(samples) == len(block)
    assert sorted(op[2]["sample_index"] for op in samples) == list(block)
    assert checked.evaluations == sum(op[0] == "evaluation" for op in checked.operations) > 0
    assert all(op[0] != "session" for op in checked.operations)


def _snapshot(run_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = sqlite3.connect(run_dir / "run.sqlite")
    try:
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}
    finally:
        db.close()


def test_applied_reply_equals_a_local_run_and_applies_once(
    config: RunConfig, genuine: str, tmp_path: Path
) -> None:
    checked = check_session_reply(config, seed_job(), genuine)
    applied = RunStore(tmp_path / "applied")
    try:
        apply_operations(applied, checked.operations)
        applied.add_session(checked.record)
        first = _snapshot(applied.run_dir)
        apply_operations(applied, checked.operations)
        applied.add_session(checked.record)
        assert _snapshot(applied.run_dir) == first, "applying a reply twice changed the store"
    finally:
        applied.close()

    local_dir = tmp_path / "local"
    with loop_context(config, local_dir, plumbing=Plumbing(executor=LocalExecutor())) as ctx:
        (record,) = ctx.executor.run_sessions(ctx, [seed_job()])
    assert record == checked.record
    for table in ("programs", "evaluations", "lm_calls", "events", "sessions"):
        local, remote = result_rows(local_dir, table), result_rows(applied.run_dir, table)
        assert local and remote == local, table


def test_a_workers_replay_miss_is_raised_on_the_driver(config: RunConfig, cache_dir: Path) -> None:
    # A max_tokens the recording was not made with: the worker's model has no answer.
    other = config.replace(max_tokens=config.max_tokens - 1)
    reply = run_session_job(session_request(other, seed_job(), "wire-miss"), "[]")
    assert json.loads(reply)["error"]["type"] == "ReplayMiss"
    with pytest.raises(ReplayMiss, match="no recorded answer"):
        check_session_reply(other, seed_job(), reply)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ReplayMiss("no answer"), ReplayMiss),
        (ConfigError("task 'x' is unknown on this worker"), ConfigError),
        (SandboxError("the sandbox failed to start"), SandboxError),
    ],
)
def test_typed_errors_cross_as_their_type(error: SelftaughtError, expected: type) -> None:
    reply = json.loads(error_reply(error))
    with pytest.raises(expected, match=re.escape(str(error))):
        raise_if_error(reply)


@pytest.mark.parametrize("name", ["KeyboardInterrupt", "SystemExit", "Path", "Nonsense", ""])
def test_an_error_type_outside_selftaughts_errors_is_an_executor_error(name: str) -> None:
    with pytest.raises(ExecutorError, match="a worker failed"):
        raise_if_error({"error": {"type": name, "message": "boom"}})


# -- forged replies -------------------------------------------------------------------------------
def _extra_sample(reply: Reply) -> None:
    sample = copy.deepcopy(ops(reply, "lm_sample")[0])
    sample[1] = "f" * 64  # a third distinct sample, its index still inside the block
    reply["operations"].insert(0, sample)


def _index_outside(reply: Reply) -> None:
    ops(reply, "lm_sample")[0][2]["sample_index"] = 10**9


def _extra_lm_event(reply: Reply) -> None:
    event = copy.deepcopy(ops(reply, "event")[0])
    assert event[1] == "lm_call"
    event[4] = event[4].replace("/lm/1", "/lm/2")
    reply["operations"].insert(0, event)


def _session_claims_more_calls(reply: Reply) -> None:
    ops(reply, "session")[0][9] = 2  # lm_calls of the record


def _session_claims_more_utility(reply: Reply) -> None:
    ops(reply, "session")[0][10] = 10_000


def _other_key(reply: Reply) -> None:
    session = ops(reply, "session")[0]
    session[1] = session[1].replace("/r0", "/r1")


def _other_improver(reply: Reply) -> None:
    ops(reply, "session")[0][2] = "0" * 64


def _two_sessions(reply: Reply) -> None:
    reply["operations"].append(copy.deepcopy(ops(reply, "session")[0]))


def _no_session(reply: Reply) -> None:
    reply["operations"] = [op for op in reply["operations"] if op[0] != "session"]


FORGERIES = {
    "more samples than the budget": (_extra_sample, "samples for a budget of 2"),
    "sample index outside the block": (_index_outside, "outside the run's block"),
    "more lm_call events than lm_budget": (_extra_lm_event, "LM calls for a budget of 1"),
    "session claims more LM calls": (_session_claims_more_calls, "LM calls for a budget of 1"),
    "more utility calls than budget": (_session_claims_more_utility, "utility calls"),
    "wrong job key": (_other_key, "another job"),
    "wrong improver": (_other_improver, "another job"),
    "two session ops": (_two_sessions, "2 sessions"),
    "no session op": (_no_session, "0 sessions"),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_reply_is_refused(config: RunConfig, genuine: str, name: str) -> None:
    change, message = FORGERIES[name]
    forged = forge(genuine, change)
    assert forged != json.dumps(json.loads(genuine))
    with pytest.raises(CorruptRecording, match=message):
        check_session_reply(config, seed_job(), forged)


def test_the_genuine_reply_is_refused_for_another_job(config: RunConfig, genuine: str) -> None:
    with pytest.raises(CorruptRecording, match="another job"):
        check_session_reply(config, seed_job(run_index=1), genuine)


def _with_constant(genuine: str, constant: str) -> str:
    """The genuine reply with its session's validation score replaced by a bare constant."""
    reply = json.loads(genuine)
    ops(reply, "session")[0][5] = "__HERE__"
    return json.dumps(reply).replace('"__HERE__"', constant)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(config: RunConfig, genuine: str, constant: str) -> None:
    forged = _with_constant(genuine, constant)
    assert constant in forged
    with pytest.raises(CorruptRecording, match="non-finite"):
        check_session_reply(config, seed_job(), forged)


MALFORMED_OPERATIONS: list[Any] = [
    ["bogus", "x"],
    [],
    "program",
    [42, "x", "solution", None],
    ["program", 1, "solution", None],
    ["program", "src", "solution"],
    ["evaluation", "sha", "parity_noise", "val", 1.5, 0.1, None],
    ["evaluation", "sha", "parity_noise", "val", True, 0.1, None],
    ["lm_sample", "key", {"spec": "x"}],
    ["event", "lm_call", "session", "not a dict", None, None],
    ["session", "too", "few"],
]


@pytest.mark.parametrize("op", MALFORMED_OPERATIONS, ids=repr)
def test_malformed_operations_are_refused(config: RunConfig, genuine: str, op: Any) -> None:
    forged = forge(genuine, lambda reply: reply["operations"].insert(0, op))
    with pytest.raises(CorruptRecording, match="malformed operation"):
        check_session_reply(config, seed_job(), forged)


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"operations": "x"}', '{"ops": []}', "null", '"text"']
)
def test_replies_without_operations_are_refused(config: RunConfig, text: str) -> None:
    with pytest.raises(CorruptRecording):
        check_session_reply(config, seed_job(), text)


@pytest.mark.parametrize(
    "text",
    [
        '{"score": NaN, "seconds": 0.1, "error": null}',
        '{"score": 1.5, "seconds": 0.1, "error": null}',
        '{"score": true, "seconds": 0.1, "error": null}',
        '{"score": 0.5, "seconds": "0.1", "error": null}',
        '{"score": 0.5, "seconds": 0.1, "error": 3}',
        "[0.5]",
    ],
)
def test_malformed_evaluation_replies_are_refused(text: str) -> None:
    with pytest.raises(CorruptRecording):
        check_evaluation_reply(text)


def test_a_wellformed_evaluation_reply_is_accepted() -> None:
    evaluation = check_evaluation_reply('{"score": 0.25, "seconds": 0.5, "error": "x"}')
    assert (evaluation.score, evaluation.seconds, evaluation.error) == (0.25, 0.5, "x")
