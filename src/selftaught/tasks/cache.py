"""Score caches keyed by (SHA-256 of the source, task, split).

Scores are deterministic functions of the program's answers, so a cached score is as good as a
fresh one. `MemoryScoreCache` lives for one process; `SqliteScoreCache` persists in a file (the
run directory's) so a resumed run never re-scores a program.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from selftaught.tasks.result import ScoreResult

CacheKey = tuple[str, str, str]


def source_digest(source: str) -> str:
    """SHA-256 hex digest of a program's source text."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


class ScoreCache(Protocol):
    """Where `score_program` looks up and stores results."""

    def get(self, key: CacheKey) -> ScoreResult | None:
        """The stored result for `key`, or None."""
        ...

    def put(self, key: CacheKey, result: ScoreResult) -> None:
        """Store `result` under `key`."""
        ...


class NullScoreCache:
    """A cache that stores nothing: every call scores afresh."""

    def get(self, key: CacheKey) -> ScoreResult | None:
        return None

    def put(self, key: CacheKey, result: ScoreResult) -> None:
        return None


class MemoryScoreCache:
    """An in-process dictionary cache (thread-safe)."""

    def __init__(self) -> None:
        self._items: dict[CacheKey, ScoreResult] = {}
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> ScoreResult | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: CacheKey, result: ScoreResult) -> None:
        with self._lock:
            self._items[key] = result

    def __len__(self) -> int:
        return len(self._items)


class SqliteScoreCache:
    """A persistent cache in one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS scores ("
                " source_sha256 TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL,"
                " result TEXT NOT NULL, PRIMARY KEY (source_sha256, task, split))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, key: CacheKey) -> ScoreResult | None:
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT result FROM scores WHERE source_sha256 = ? AND task = ? AND split = ?", key
            ).fetchone()
        return None if row is None else ScoreResult.from_json(json.loads(row[0]))

    def put(self, key: CacheKey, result: ScoreResult) -> None:
        payload = json.dumps(result.to_json(full=True))
        with self._lock, self._connect() as db:
            db.execute("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)", (*key, payload))

    def __len__(self) -> int:
        with self._lock, self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM scores").fetchone()[0])
