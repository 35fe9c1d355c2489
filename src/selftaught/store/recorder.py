"""What an improver session writes, captured as plain data so that one process stays the writer.

A session run on a remote worker (see `selftaught.execute`) cannot write the driver's run store.
It writes into a `RecordingStore` instead: the same write methods, kept as a list of JSON-able
operations. The driver validates those operations and applies them to its own `RunStore` with
`apply_operations`; every write there is keyed, so applying them twice (a retried task, a
resumed run) changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import astuple
from typing import Any, Protocol

from selftaught.errors import CorruptRecording
from selftaught.store.db import Evaluation, RunStore, SessionRecord, sha256_text

PROGRAM, EVALUATION, LM_SAMPLE, EVENT, SESSION = (
    "program",
    "evaluation",
    "lm_sample",
    "event",
    "session",
)
__all__ = [
    "CorruptRecording",
    "RecordingStore",
    "SessionStore",
    "apply_operations",
    "check_evaluation",
]
LM_SAMPLE_FIELDS = {
    "spec": str,
    "prompt_hash": str,
    "sample_index": int,
    "temperature": (int, float),
    "max_tokens": int,
    "response": str,
    "prompt_tokens": int,
    "completion_tokens": int,
    "seconds": (int, float),
    "cached": bool,
}


class SessionStore(Protocol):
    """The part of the run store an improver session reads and writes."""

    def add_program(self, source: str, kind: str, parent: str | None = None) -> str: ...

    def program(self, sha: str) -> str | None: ...

    def evaluation(self, sha: str, task: str, split: str) -> Evaluation | None: ...

    def add_evaluation(self, sha: str, task: str, split: str, ev: Evaluation) -> None: ...

    def add_lm_sample(self, key: str, row: dict[str, Any]) -> None: ...

    def add_event(
        self,
        kind: str,
        session: str,
        detail: dict[str, Any],
        *,
        key: str | None = None,
        program: str | None = None,
    ) -> None: ...

    def session(self, key: str) -> SessionRecord | None: ...

    def add_session(self, rec: SessionRecord) -> None: ...


class RecordingStore:
    """A `SessionStore` that keeps every write as an operation (thread-safe).

    `known` holds scores the driver already has (so a worker does not score them again).
    """

    def __init__(self, known: Mapping[tuple[str, str, str], Evaluation] | None = None) -> None:
        self._lock = threading.Lock()
        self._programs: dict[str, str] = {}
        self._evaluations: dict[tuple[str, str, str], Evaluation] = dict(known or {})
        self._sessions: dict[str, SessionRecord] = {}
        self.operations: list[list[Any]] = []

    def add_program(self, source: str, kind: str, parent: str | None = None) -> str:
        sha = sha256_text(source)
        with self._lock:
            if sha not in self._programs:
                self._programs[sha] = source
                self.operations.append([PROGRAM, source, kind, parent])
        return sha

    def program(self, sha: str) -> str | None:
        with self._lock:
            return self._programs.get(sha)

    def evaluation(self, sha: str, task: str, split: str) -> Evaluation | None:
        with self._lock:
            return self._evaluations.get((sha, task, split))

    def add_evaluation(self, sha: str, task: str, split: str, ev: Evaluation) -> None:
        with self._lock:
            if (sha, task, split) in self._evaluations:
                return
            self._evaluations[(sha, task, split)] = ev
            self.operations.append(
                [EVALUATION, sha, task, split, ev.score, ev.seconds, ev.error, ev.margin]
            )

    def add_lm_sample(self, key: str, row: dict[str, Any]) -> None:
        with self._lock:
            self.operations.append([LM_SAMPLE, key, dict(row)])

    def add_event(
        self,
        kind: str,
        session: str,
        detail: dict[str, Any],
        *,
        key: str | None = None,
        program: str | None = None,
    ) -> None:
        with self._lock:
            self.operations.append([EVENT, kind, session, detail, key, program])

    def session(self, key: str) -> SessionRecord | None:
        with self._lock:
            return self._sessions.get(key)

    def add_session(self, rec: SessionRecord) -> None:
        with self._lock:
            self._sessions.setdefault(rec.key, rec)
            self.operations.append([SESSION, *astuple(rec)])


# -- the driver side: check, then apply ---------------------------------------------------------
def _expect(condition: bool, what: str, thing: str = "operation") -> None:
    if not condition:
        raise CorruptRecording(f"malformed {thing} from a worker: {what}")


def check_evaluation(
    score: Any, seconds: Any, error: Any, margin: Any = 0.0, thing: str = "operation"
) -> Evaluation:
    """An Evaluation from a worker's fields: numbers, a score and a margin in [0, 1], error text
    or None."""
    numbers = _is(score, (int, float)) and _is(seconds, (int, float)) and _is(margin, (int, float))
    _expect(numbers, "evaluation numbers", thing)
    _expect(0.0 <= score <= 1.0 and _is(error, str, optional=True), "evaluation score", thing)
    _expect(0.0 <= margin <= 1.0, "evaluation margin", thing)
    return Evaluation(float(score), float(seconds), error, float(margin))


def _is(value: Any, kind: Any, optional: bool = False) -> bool:
    if optional and value is None:
        return True
    if isinstance(value, bool) and kind is not bool:
        return False  # JSON true is not a number
    return isinstance(value, kind)


def parse_session(fields: list[Any]) -> SessionRecord:
    """A SessionRecord from its operation fields, type-checked."""
    _expect(len(fields) == 10, "a session needs 10 fields")
    types: list[tuple[Any, bool]] = [
        (str, False),
        (str, False),
        (str, False),
        (str, True),
        ((int, float), False),
        ((int, float), False),
        (str, False),
        (str, True),
        (int, False),
        (int, False),
    ]
    for value, (kind, optional) in zip(fields, types, strict=True):
        _expect(_is(value, kind, optional), f"session field {value!r:.40}")
    return SessionRecord(*fields)


def check_operation(op: Any) -> list[Any]:
    """Raise CorruptRecording unless `op` is a well-formed operation; returns it."""
    _expect(isinstance(op, list) and bool(op) and isinstance(op[0], str), "not an operation")
    kind, args = op[0], op[1:]
    if kind == PROGRAM:
        _expect(len(args) == 3 and _is(args[0], str) and _is(args[1], str), "program")
        _expect(_is(args[2], str, optional=True), "program parent")
    elif kind == EVALUATION:
        _expect(len(args) in (6, 7) and all(_is(a, str) for a in args[:3]), "evaluation keys")
        check_evaluation(*args[3:])
    elif kind == LM_SAMPLE:
        _expect(len(args) == 2 and _is(args[0], str) and isinstance(args[1], dict), "lm sample")
        for name, field_type in LM_SAMPLE_FIELDS.items():
            _expect(_is(args[1].get(name), field_type), f"lm sample field {name}")
    elif kind == EVENT:
        _expect(len(args) == 5 and _is(args[0], str) and _is(args[1], str), "event")
        _expect(isinstance(args[2], dict), "event detail")
        _expect(_is(args[3], str, True) and _is(args[4], str, True), "event key")
    elif kind == SESSION:
        parse_session(args)
    else:
        _expect(False, f"unknown kind {kind!r:.40}")
    return op


def apply_operations(store: RunStore, operations: Iterable[list[Any]]) -> None:
    """Write checked operations into the run store (idempotent: every row is keyed)."""
    for op in operations:
        kind, args = op[0], op[1:]
        if kind == PROGRAM:
            store.add_program(args[0], args[1], args[2])
        elif kind == EVALUATION:
            store.add_evaluation(args[0], args[1], args[2], check_evaluation(*args[3:]))
        elif kind == LM_SAMPLE:
            store.add_lm_sample(args[0], args[1])
        elif kind == EVENT:
            store.add_event(args[0], args[1], args[2], key=args[3], program=args[4])
        elif kind == SESSION:
            store.add_session(parse_session(args))
