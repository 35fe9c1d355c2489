"""What the report shows of an `improve` run: every candidate in the order it was scored, the
best score against LM samples, and the lineage of the best program.

The orchestrator never sees an improver's own bookkeeping (its parents, its islands), so the
lineage is read back from the prompts: a candidate's parent is the earlier program whose code
was shown in full, last, in the prompt that produced it (improvers show the program to improve
last, nearest to the reply). The prompts come from the run's response cache; without it the
lineage is the chain of programs that each beat the best so far.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from selftaught.core.feedback import CANDIDATE_EVENT
from selftaught.store.db import RunStore
from selftaught.store.layout import IMPROVE_KEY, LM_CACHE_NAME, LM_CALL_EVENT

__all__ = ["Attempt", "ImproveData", "collect_improve"]

MATCH_SHARE = 0.8  # share of a candidate's lines a reply must hold to have produced it


@dataclass(frozen=True)
class Attempt:
    """One scored program: its order, the LM samples drawn before it, score and error."""

    n: int
    sha: str
    source: str
    samples: int
    score: float
    error: str | None
    parent: int | None = None  # the index of its parent attempt (0 is the input)


@dataclass(frozen=True)
class ImproveData:
    """An improve run, read back: inputs, attempts (the input first) and the final result."""

    run_dir: Path
    task: str
    improver: str
    samples: int
    attempts: tuple[Attempt, ...]
    result_test: float | None
    input_test: float | None
    status: str
    lineage: tuple[int, ...] = field(default=())

    @property
    def best(self) -> Attempt:
        valid = [a for a in self.attempts if a.error is None]
        return max(valid or self.attempts, key=lambda a: (a.score, -a.n))

    def best_by_samples(self) -> list[tuple[int, float]]:
        """(LM samples drawn, best validation score so far) at each new best."""
        points: list[tuple[int, float]] = []
        for attempt in self.attempts:
            if attempt.error is None and (not points or attempt.score > points[-1][1]):
                points.append((attempt.samples, attempt.score))
        if points and self.samples > points[-1][0]:
            points.append((self.samples, points[-1][1]))
        return points

    @property
    def valid_share(self) -> float:
        """The share of LM samples that gave a program scored without error."""
        valid = sum(1 for a in self.attempts[1:] if a.error is None)
        return valid / self.samples if self.samples else 0.0


def collect_improve(run_dir: Path) -> ImproveData:
    """Read an improve run directory (only read: it may be on read-only media)."""
    store = RunStore(run_dir, read_only=True)
    try:
        record = json.loads(store.get_meta(IMPROVE_KEY) or "{}")
        source = store.program(record.get("source_sha", "")) or ""
        rows = store.query(
            "SELECT session, kind, detail FROM events WHERE session LIKE 'improve/%'"
            " AND kind IN (?, ?) ORDER BY id",
            (CANDIDATE_EVENT, LM_CALL_EVENT),
        )
        attempts = _attempts(store, source, _score(store, record.get("source_sha"), "val"), rows)
        sessions = store.query("SELECT status, result FROM sessions WHERE key LIKE 'improve/%'", ())
        status, result = sessions[0] if sessions else ("running or killed", None)
        ((samples,),) = store.query("SELECT COUNT(*) FROM lm_calls", ())
        input_test = _score(store, record.get("source_sha"), "test")
        result_test = _score(store, result, "test")
    finally:
        store.close()
    task = str(record.get("task", "?"))
    data = ImproveData(
        run_dir, Path(task).stem if "/" in task else task, str(record.get("improver", "?")),
        int(samples), tuple(attempts), result_test, input_test, str(status),
    )  # fmt: skip
    prompts = _prompts(run_dir / LM_CACHE_NAME)
    with_parents = tuple(_with_parent(a, attempts, prompts) for a in attempts)
    data = ImproveData(**{**data.__dict__, "attempts": with_parents})
    return ImproveData(**{**data.__dict__, "lineage": lineage(data)})


def _attempts(
    store: RunStore, source: str, start_val: float | None, rows: list[tuple[str, str, str]]
) -> list[Attempt]:
    start = Attempt(0, "", source, 0, start_val or 0.0, None)
    attempts, samples, seen = [start], 0, {source.strip()}
    for _, kind, detail in rows:
        data = json.loads(detail)
        if kind == LM_CALL_EVENT:
            samples += int(data.get("responses", 0))
            continue
        program = store.program(data["program"]) or ""
        if program.strip() in seen:  # the input, scored first, or a program seen before
            continue
        seen.add(program.strip())
        score, error = float(data.get("score", 0.0)), data.get("error")
        attempts.append(Attempt(len(attempts), data["program"], program, samples, score, error))
    return attempts


def _score(store: RunStore, sha: str | None, split: str) -> float | None:
    if not sha:
        return None
    rows = store.query("SELECT score FROM evaluations WHERE sha256 = ? AND split = ?", (sha, split))
    return float(rows[0][0]) if rows else None


def _prompts(cache_path: Path) -> list[tuple[str, str]]:
    """(user message, assistant prefix + reply) of every cached sample, oldest first."""
    if not cache_path.is_file():
        return []
    try:
        conn = sqlite3.connect(f"file:{cache_path}?mode=ro", uri=True)
        rows = conn.execute("SELECT messages, text FROM samples ORDER BY created").fetchall()
        conn.close()
    except sqlite3.Error:
        return []
    out = []
    for messages, text in rows:
        turns = json.loads(messages)
        user = next((t for role, t in reversed(turns) if role == "user"), "")
        prefix = turns[-1][1] if turns and turns[-1][0] == "assistant" else ""
        out.append((user, prefix + text))
    return out


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _with_parent(
    attempt: Attempt, attempts: list[Attempt], prompts: list[tuple[str, str]]
) -> Attempt:
    """The attempt with its parent: the earlier program shown last in its prompt."""
    if attempt.n == 0 or not prompts:
        return attempt
    want = _lines(attempt.source)
    best_user, best_share = None, MATCH_SHARE
    for user, reply in prompts:
        have = set(_lines(reply))
        share = sum(line in have for line in want) / max(1, len(want))
        if share > best_share:
            best_user, best_share = user, share
    if best_user is None:
        return attempt
    shown = [(best_user.rfind(a.source.strip()), a.n) for a in attempts[: attempt.n]]
    shown = [(at, n) for at, n in shown if at >= 0 and attempts[n].source.strip()]
    if not shown:
        return attempt
    return Attempt(**{**attempt.__dict__, "parent": max(shown)[1]})


def lineage(data: ImproveData) -> tuple[int, ...]:
    """Attempt indices from the input to the best program, through the known parents; else the
    chain of attempts that each beat the best so far."""
    by_n = {a.n: a for a in data.attempts}
    chain, node = [data.best.n], data.best
    while node.parent is not None and node.parent not in chain:
        chain.append(node.parent)
        node = by_n[node.parent]
    if chain[-1] == 0:
        return tuple(reversed(chain))
    bests, top = [0], data.attempts[0].score
    for a in data.attempts[1 : data.best.n + 1]:
        if a.error is None and a.score > top:
            bests.append(a.n)
            top = a.score
    return tuple(bests)
