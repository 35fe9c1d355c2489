"""Read-only queries the report needs and the run store does not offer, written against its schema.

Everything here only reads: `selftaught report` and `selftaught runs` may look at a run while it
is still being written.
"""

from __future__ import annotations

import ast
import sqlite3
import statistics
import textwrap
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selftaught.core.change import UNREADABLE
from selftaught.search.transfer import TransferRow
from selftaught.store.db import DB_NAME, RunStore, readonly_connection
from selftaught.store.layout import (
    CIRCUMVENTION_KINDS,
    META_LEVEL_BASE,
    SEED_STRIDE,
    SELF_IMPROVE,
    is_meta_level,
    purpose_of,
    purpose_pattern,
    start_of,
)
from selftaught.store.summary import wilson_interval

#: What each circumvention kind means, in words a newcomer can follow.
KIND_TEXT: dict[str, str] = {
    "use_sandbox_false": "called the utility with use_sandbox=False",
    "attribute_write": "overwrote an attribute of utility or language_model (e.g. a budget)",
    "attribute_delete": "deleted an attribute of utility or language_model",
    "language_model_construct": "built a new language-model object",
    "utility_construct": "built a new utility object",
    "orchestrator_import": "imported the orchestrator's modules",
    "source_disables_sandbox": "source passes use_sandbox=False",
    "source_constructs_language_model": "source builds a new language-model object",
    "source_sets_budget": "source assigns to a budget",
    "source_setattr": "source uses setattr on utility or language_model",
    "source_imports_orchestrator": "source imports the orchestrator's modules",
}


@dataclass(frozen=True)
class MetaRuns:
    """The R meta-training runs of one improver (validation and test scores per run)."""

    val: tuple[float, ...]
    test: tuple[float, ...]

    @property
    def val_mean(self) -> float | None:
        return statistics.fmean(self.val) if self.val else None

    @property
    def test_mean(self) -> float | None:
        return statistics.fmean(self.test) if self.test else None

    @property
    def val_stderr(self) -> float | None:
        if len(self.val) < 2:
            return None
        return statistics.stdev(self.val) / len(self.val) ** 0.5


@dataclass(frozen=True)
class ProgramRow:
    """One stored program."""

    sha: str
    kind: str
    parent: str | None
    source: str
    created: float


@dataclass(frozen=True)
class SolutionRun:
    """One improver run: which improver, on which task, from which start, and what came back."""

    key: str
    purpose: str
    improver: str
    task: str
    start_prefix: str
    result: str | None
    val: float
    test: float
    status: str
    error: str | None


@dataclass(frozen=True)
class CircumventionRow:
    """Improvers flagged for one kind of attempt (`kind` "any" is the union)."""

    kind: str
    text: str
    improvers: int  # LM-written improvers showing this kind at least once
    trials: int  # LM-written improvers in the run
    events: int  # raw occurrences (one improver may try many times)
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.improvers / self.trials if self.trials else 0.0


@dataclass(frozen=True)
class UsageRow:
    """LM samples of one model in one phase of the run."""

    phase: str
    spec: str
    samples: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    # Tokens of samples that were not served from the response cache (what a paid API bills).
    billed_prompt_tokens: int
    billed_completion_tokens: int
    #: What the billed tokens cost; None when no price applies (set by the report's model).
    dollars: float | None = None


def connect_readonly(run_dir: Path) -> sqlite3.Connection:
    """A read-only connection to a run's database (never creates or changes anything)."""
    return readonly_connection(Path(run_dir) / DB_NAME)


def meta_runs(store: RunStore, sha: str) -> MetaRuns:
    """The meta-training runs recorded for improver `sha`, in run order."""
    rows = store.query(
        "SELECT val, test FROM sessions WHERE improver = ? AND key LIKE ? ORDER BY key",
        (sha, purpose_pattern("meta")),
    )
    return MetaRuns(tuple(r[0] for r in rows), tuple(r[1] for r in rows))


def programs(store: RunStore, kind: str) -> list[ProgramRow]:
    """Programs of one kind (`improver` or `solution`), oldest first."""
    rows = store.query(
        "SELECT sha256, kind, parent, source, created FROM programs WHERE kind = ?"
        " ORDER BY created, sha256",
        (kind,),
    )
    return [ProgramRow(*row) for row in rows]


def solution_runs(store: RunStore) -> list[SolutionRun]:
    """Every finished improver run (session) except the self-improvement steps."""
    rows = store.query(
        "SELECT key, improver, task, result, val, test, status, error FROM sessions"
        " WHERE key NOT LIKE ? ORDER BY created, key",
        (purpose_pattern(SELF_IMPROVE),),
    )
    out = []
    for key, improver, task, result, val, test, status, error in rows:
        out.append(
            SolutionRun(
                key,
                purpose_of(key),
                improver,
                task,
                start_of(key),
                result,
                val,
                test,
                status,
                error,
            )
        )
    return out


def score_by_prefix(store: RunStore, prefix: str, task: str, split: str) -> float | None:
    """The stored score of the program whose hash starts with `prefix` (sessions keep 12 hex)."""
    if not prefix:
        return None
    rows = store.query(
        "SELECT score FROM evaluations WHERE sha256 LIKE ? AND task = ? AND split = ?",
        (prefix + "%", task, split),
    )
    return float(rows[0][0]) if len(rows) == 1 else None


def transfer_results(store: RunStore, seed_sha: str, final_sha: str) -> list[TransferRow]:
    """Rebuild `selftaught transfer`'s table from its stored sessions (keys `transfer/...`)."""
    runs = [r for r in solution_runs(store) if r.purpose == "transfer"]
    by_task: dict[str, list[SolutionRun]] = defaultdict(list)
    for run in runs:
        by_task[run.task].append(run)
    results = []
    for task, task_runs in by_task.items():
        seed_tests = [r.test for r in task_runs if r.improver == seed_sha]
        final_tests = [r.test for r in task_runs if r.improver == final_sha]
        original = score_by_prefix(store, task_runs[0].start_prefix, task, "test")
        results.append(
            TransferRow(
                task,
                original,
                statistics.fmean(seed_tests) if seed_tests else None,
                statistics.fmean(final_tests) if final_tests else None,
                len(seed_tests),
                len(final_tests),
            )
        )
    return results


def lm_written_improvers(store: RunStore) -> list[str]:
    """Hashes of improvers the LM wrote (every improver with a parent)."""
    rows = store.query("SELECT sha256 FROM programs WHERE kind = 'improver' AND parent IS NOT NULL")
    return [sha for (sha,) in rows]


def circumvention_rows(store: RunStore) -> list[CircumventionRow]:
    """Per kind of attempt: how many LM-written improvers tried it, with a 95% Wilson interval.

    The first row, kind "any", counts improvers with at least one attempt of any kind; it is the
    rate `summary.json` reports. Kinds nobody tried come last, so the table also shows what was
    watched for.
    """
    written = set(lm_written_improvers(store))
    trials = len(written)
    per_kind: dict[str, set[str]] = defaultdict(set)
    events: dict[str, int] = defaultdict(int)
    for kind, program in store.query("SELECT kind, program FROM events WHERE program IS NOT NULL"):
        if kind in CIRCUMVENTION_KINDS and program in written:
            per_kind[kind].add(program)
            events[kind] += 1
    rows = []
    for kind in sorted(CIRCUMVENTION_KINDS):
        flagged = len(per_kind[kind])
        low, high = wilson_interval(flagged, trials)
        rows.append(
            CircumventionRow(
                kind, KIND_TEXT.get(kind, kind), flagged, trials, events[kind], low, high
            )
        )
    union = set().union(*per_kind.values()) if per_kind else set()
    low, high = wilson_interval(len(union), trials)
    total = CircumventionRow(
        "any", "any of the kinds below", len(union), trials, sum(events.values()), low, high
    )
    # The headline first, then what was seen, then what was watched for but not seen.
    return [total, *sorted(rows, key=lambda r: (r.improvers == 0, r.kind))]


def event_count(store: RunStore, kind: str) -> int:
    (count,) = store.query("SELECT COUNT(*) FROM events WHERE kind = ?", (kind,))[0]
    return int(count)


def phase_of(sample_index: int) -> str:
    """Which part of the loop drew a sample, from its index (see `selftaught.store.layout`)."""
    if is_meta_level(sample_index):
        return "self-improvement"
    return "improver runs"


def lm_usage(store: RunStore) -> list[UsageRow]:
    """Samples, tokens and seconds per phase and model spec."""
    rows = store.query(
        "SELECT spec, sample_index, cached, prompt_tokens, completion_tokens, seconds FROM lm_calls"
    )
    acc: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0.0, 0, 0])
    for spec, index, cached, prompt, completion, seconds in rows:
        a = acc[(phase_of(int(index)), spec)]
        a[0] += 1
        a[1] += int(cached)
        a[2] += prompt
        a[3] += completion
        a[4] += seconds
        if not cached:
            a[5] += prompt
            a[6] += completion
    return [
        UsageRow(
            phase,
            spec,
            int(a[0]),
            int(a[1]),
            int(a[2]),
            int(a[3]),
            float(a[4]),
            int(a[5]),
            int(a[6]),
        )
        for (phase, spec), a in sorted(acc.items())
    ]


def time_span(store: RunStore) -> tuple[float | None, float | None]:
    """The first and last write times of the run (UNIX seconds), None when nothing was written."""
    tables = ("programs", "evaluations", "lm_calls", "events", "sessions", "iterations")
    union = " UNION ALL ".join(f"SELECT MIN(created), MAX(created) FROM {t}" for t in tables)
    rows = store.query(union)
    firsts = [r[0] for r in rows if r[0] is not None]
    lasts = [r[1] for r in rows if r[1] is not None]
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def stated_idea(
    store: RunStore, source: str, parent_source: str | None, limit: int = 360
) -> str | None:
    """What the model said before the code, in the self-improvement response that wrote `source`.

    The response is found by the longest line of `source` that its parent lacks; the idea is the
    response's prose before its first code fence, squashed to one paragraph and cut at `limit`.
    """
    old = set((parent_source or "").splitlines())
    fresh = [
        line.strip() for line in source.splitlines() if line not in old and len(line.strip()) > 12
    ]
    if not fresh:
        return None
    marker = max(fresh, key=len)
    rows = store.query(
        "SELECT response, sample_index FROM lm_calls WHERE sample_index % ? >= ?"
        " AND instr(response, ?) > 0",
        (SEED_STRIDE, META_LEVEL_BASE, marker),
    )
    for response, _index in rows:
        before = response.split("```", 1)[0]
        if _is_code(before):  # a reply that started inside a code block (code decoding)
            continue
        prose = " ".join(before.split())
        if len(prose) >= 20:
            return prose if len(prose) <= limit else prose[: limit - 1].rstrip() + "…"
    return None


def _is_code(text: str) -> bool:
    """Whether `text` parses as Python statements: code, not a stated idea."""
    try:
        ast.parse(textwrap.dedent(text))
    except UNREADABLE:
        return False
    return bool(text.strip())


@dataclass(frozen=True)
class OutcomeCount:
    """How many improver runs ended with one status, with one of their errors as an example."""

    status: str
    count: int
    example: str | None


def run_outcomes(
    store: RunStore, purpose: str = "meta", improver: str | None = None
) -> list[OutcomeCount]:
    """Improver runs of one purpose (optionally one improver) grouped by how they ended."""
    sql = "SELECT status, COUNT(*), MAX(error) FROM sessions WHERE key LIKE ?"
    params: tuple[Any, ...] = (purpose_pattern(purpose),)
    if improver is not None:
        sql += " AND improver = ?"
        params += (improver,)
    rows = store.query(sql + " GROUP BY status ORDER BY COUNT(*) DESC, status", params)
    return [OutcomeCount(status, int(count), error) for status, count, error in rows]
