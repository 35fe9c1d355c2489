"""What went wrong downstream, told to the meta level: a digest of an improver's runs.

Each downstream utility call of an improver session is recorded as a `candidate` event (the
program's hash, its validation score and its error). The digest of an improver's meta-utility runs
counts the candidates, the valid ones (score above 0), the best score against the starting
program's, and the most common failures, such as "3 x ModuleNotFoundError: No module named
'sklearn'". The meta level gets it through the utility's feedback channel (`utility.last_error`
after a meta-utility call) and, outside paper mode, in the text describing the meta-utility, so
that an improver that ignores `last_error` (the paper's seed improver) still sees it.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from selftaught.store.db import RunStore, SessionRecord
from selftaught.store.recorder import SessionStore
from selftaught.tasks.hints import LOCATION

CANDIDATE_EVENT = "candidate"
#: Failures listed in a digest, most common first.
MAX_FAILURE_KINDS = 4
_WHERE = re.compile(r" \(first at instance \d+\); \d+ of \d+ instances failed$")
_NUMBER = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class Candidate:
    """One program an improver session had scored: its validation score and first error."""

    score: float
    error: str | None


def record_candidate(store: SessionStore, session: str, n: int, sha: str, ev_score: float,
                     error: str | None) -> None:  # fmt: skip
    """Store the `n`-th utility call of `session` (idempotent: a resumed session rewrites it)."""
    detail = {"program": sha, "score": ev_score, "error": (error or "")[:300] or None}
    store.add_event(CANDIDATE_EVENT, session, detail, key=f"{session}/candidate/{n}", program=sha)


def session_candidates(store: RunStore, session: str) -> list[Candidate]:
    """The candidates one session had scored, in call order."""
    rows = store.query(
        "SELECT detail FROM events WHERE kind = ? AND session = ? ORDER BY id",
        (CANDIDATE_EVENT, session),
    )
    found = []
    for (detail,) in rows:
        data = json.loads(detail)
        found.append(Candidate(float(data.get("score", 0.0)), data.get("error")))
    return found


def failure_kind(error: str) -> str:
    """An error reduced to its kind: one line, without instance counts, numbers masked."""
    line = _WHERE.sub("", error.strip().splitlines()[-1] if error.strip() else error)
    line = LOCATION.sub("", line)  # the failing line differs from program to program
    return _NUMBER.sub("N", line)[:120]


def digest(candidates: Iterable[Candidate], start_score: float | None = None) -> str:
    """One paragraph: how many candidates were valid, the best score, the common failures."""
    found = list(candidates)
    if not found:
        return "The improver's runs scored no candidate program (it crashed or returned at once)."
    valid = [c for c in found if c.score > 0]
    best = max(c.score for c in found)
    text = f"Over its runs the improver had {len(found)} candidate program(s) scored: "
    text += f"{len(valid)} valid (score above 0), best {best:.3f}"
    if start_score is not None:
        text += f" (the starting program scores {start_score:.3f})"
    failures = Counter(failure_kind(c.error) for c in found if c.error and c.score == 0)
    if failures:
        listed = "; ".join(f"{n} x {kind}" for kind, n in failures.most_common(MAX_FAILURE_KINDS))
        text += f". Failures: {listed}"
    return text + "."


def runs_digest(
    store: RunStore, records: Iterable[SessionRecord], start_score: float | None = None
) -> str:
    """The digest of every candidate of these improver runs."""
    return digest(
        (c for record in records for c in session_candidates(store, record.key)), start_score
    )


def same_program(first: str, second: str) -> bool:
    """Whether two sources are the same program (differing at most in formatting and comments)."""
    try:
        return ast.dump(ast.parse(first)) == ast.dump(ast.parse(second))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return first == second
