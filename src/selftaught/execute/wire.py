"""What crosses between the driver and a worker: JSON text only, checked by the driver.

The driver sends a session's job and config; the worker answers with the operations its
session recorded (see `selftaught.store.recorder`), or with a typed error. Whatever comes back is
decoded strictly (no NaN, bounded size) and checked against the job before anything reaches the
run store: one session, the job's key and improver, sample indices inside the run's own block,
and no more LM calls or samples than the budget allows, however many workers share the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import selftaught.errors as errors
from selftaught.config import RunConfig
from selftaught.core.jobs import SessionJob, sample_block
from selftaught.errors import ConfigError, SelftaughtError
from selftaught.store.db import Evaluation, SessionRecord, sha256_text
from selftaught.store.recorder import (
    EVALUATION,
    EVENT,
    LM_SAMPLE,
    SESSION,
    CorruptRecording,
    check_evaluation,
    check_operation,
    parse_session,
)

if TYPE_CHECKING:
    from selftaught.store.db import RunStore
    from selftaught.tasks import Task

#: A worker's answer is refused beyond this size (a session's record is far smaller).
MAX_REPLY_BYTES = 256 << 20


class ExecutorError(SelftaughtError):
    """A worker or the cluster failed (not the untrusted program being run)."""


def _no_constants(name: str) -> Any:
    raise CorruptRecording(f"non-finite number {name} in a worker's reply")


def loads_strict(text: str) -> Any:
    """Decode a worker's JSON reply: bounded, and without NaN or infinities."""
    if not isinstance(text, str) or len(text) > MAX_REPLY_BYTES:
        raise CorruptRecording("a worker's reply is not text of a sane size")
    try:
        return json.loads(text, parse_constant=_no_constants)
    except ValueError as exc:
        raise CorruptRecording(f"a worker's reply is not JSON: {exc}") from None


def dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


# -- requests -------------------------------------------------------------------------------------
def task_locator(task: Task) -> dict[str, str]:
    """How a worker finds the driver's task: by name or file, confirmed by its identity."""
    return {"name": task.name, "origin": task.origin, "identity": task.identity}


def find_task(locator: Any) -> Task:
    """The worker's copy of the driver's task; ConfigError when it differs or is missing."""
    from selftaught.tasks import get_task

    if not isinstance(locator, dict):
        raise ConfigError("a job names no task")
    name, origin, identity = (str(locator.get(k, "")) for k in ("name", "origin", "identity"))
    candidates = [name] + ([origin] if origin not in ("", "built-in") else [])
    problem = f"task {name!r} is unknown on this worker"
    for candidate in candidates:
        try:
            task = get_task(candidate)
        except ConfigError as exc:
            problem = str(exc)
            continue
        if task.identity == identity:
            return task
        problem = f"task {candidate} on this worker is {task.identity}, the driver's is {identity}"
    raise ConfigError(f"{problem} (install the same task files and plugins on every worker)")


def session_request(
    config: RunConfig, job: SessionJob, cache: str, access: dict[str, Any] | None = None
) -> str:
    """The JSON a worker needs to run `job` (the task travels by reference and identity);
    `access` is how the worker reaches the model (`ModelAccess.for_workers`)."""
    return dumps(
        {
            "config": config.to_dict(),
            "cache": cache,
            "access": access or {},
            "job": {
                "key": job.key,
                "purpose": job.purpose,
                "task": task_locator(job.task),
                "improver_source": job.improver_source,
                "initial_solution": job.initial_solution,
                "run_index": job.run_index,
            },
        }
    )


def known_scores(store: RunStore, identities: set[str]) -> str:
    """Every stored score of these tasks, so that workers reuse them instead of rescoring."""
    rows: list[list[Any]] = []
    for identity in sorted(identities):
        for sha, split, score, seconds, error, margin in store.query(
            "SELECT sha256, split, score, seconds, error, margin FROM evaluations WHERE task = ?",
            (identity,),
        ):
            rows.append([sha, identity, split, score, seconds, error, margin])
    return dumps(rows)


def parse_known(text: str) -> dict[tuple[str, str, str], Evaluation]:
    return {(r[0], r[1], r[2]): Evaluation(*r[3:7]) for r in json.loads(text)}


def error_reply(exc: SelftaughtError) -> str:
    return dumps({"error": {"type": type(exc).__name__, "message": str(exc)}})


def raise_if_error(reply: Any) -> None:
    """Re-raise a worker's typed error on the driver (as ExecutorError if the type is unknown).

    Only an object is a worker's error (`error_reply`): an evaluation's own `error` field (None,
    or the program's problem as text) is part of a normal answer.
    """
    error = reply.get("error") if isinstance(reply, dict) else None
    if not isinstance(error, dict):
        return
    name = str(error.get("type", ""))
    message = str(error.get("message", ""))
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, SelftaughtError):
        raise kind(message)
    raise ExecutorError(f"a worker failed: {name}: {message}")


# -- replies --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckedSession:
    """A worker's session, checked: its record and the operations to apply before it."""

    record: SessionRecord
    operations: list[list[Any]]
    samples: int
    evaluations: int


def check_session_reply(config: RunConfig, job: SessionJob, text: str) -> CheckedSession:
    """Decode and check a worker's answer to `job`; CorruptRecording if anything is off."""
    reply = loads_strict(text)
    raise_if_error(reply)
    if not isinstance(reply, dict) or not isinstance(reply.get("operations"), list):
        raise CorruptRecording("a worker's reply holds no operations")
    operations = [check_operation(op) for op in reply["operations"]]
    sessions = [op for op in operations if op[0] == SESSION]
    if len(sessions) != 1:
        raise CorruptRecording(f"a worker recorded {len(sessions)} sessions for one job")
    record = parse_session(sessions[0][1:])
    expected = (job.key, sha256_text(job.improver_source), job.task.identity)
    if (record.key, record.improver, record.task) != expected:
        raise CorruptRecording(f"a worker answered another job than {job.key}")
    _check_budget(config, job, record, operations)
    rest = [op for op in operations if op[0] != SESSION]
    return CheckedSession(
        record,
        rest,
        samples=sum(op[0] == LM_SAMPLE for op in rest),
        evaluations=sum(op[0] == EVALUATION for op in rest),
    )


def _check_budget(
    config: RunConfig, job: SessionJob, record: SessionRecord, operations: list[list[Any]]
) -> None:
    block = sample_block(config, job.run_index)
    keys = {op[1] for op in operations if op[0] == LM_SAMPLE}
    outside = [
        op[2]["sample_index"]
        for op in operations
        if op[0] == LM_SAMPLE and op[2]["sample_index"] not in block
    ]
    calls = sum(1 for op in operations if op[0] == EVENT and op[1] == "lm_call")
    problems = []
    if outside:
        problems.append(f"sample index {outside[0]} outside the run's block {block}")
    if len(keys) > len(block):
        problems.append(f"{len(keys)} samples for a budget of {len(block)}")
    calls = max(calls, record.lm_calls)
    if calls > config.lm_budget:
        problems.append(f"{calls} LM calls for a budget of {config.lm_budget}")
    utility_budget = config.utility_budget or job.task.utility_budget
    if record.utility_calls > utility_budget:
        problems.append(f"{record.utility_calls} utility calls for a budget of {utility_budget}")
    if problems:
        raise CorruptRecording(f"session {job.key} broke its budget: " + "; ".join(problems))


def evaluation_request(task: Task, source: str, split: str) -> str:
    return dumps({"task": task_locator(task), "source": source, "split": split})


def check_evaluation_reply(text: str) -> Evaluation:
    reply = loads_strict(text)
    raise_if_error(reply)
    if not isinstance(reply, dict):
        raise CorruptRecording("an evaluation reply is not an object")
    return check_evaluation(
        reply.get("score"),
        reply.get("seconds"),
        reply.get("error"),
        reply.get("margin", 0.0),
        "evaluation reply",
    )
