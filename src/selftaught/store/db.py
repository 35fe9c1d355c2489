"""The run store: one SQLite database per run directory.

Every write commits at once, so a run killed at any moment loses at most the work in flight.
Rows that a resumed run may produce again (the same LM sample, the same evaluation, the same
session) carry deterministic keys and are inserted with INSERT OR IGNORE: resuming never counts
anything twice.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from selftaught.errors import ConfigError, DamagedStore
from selftaught.store.layout import DB_NAME

#: Test hook: exit abruptly (as a kill would) after this many writes in one process.
CRASH_ENV = "SELFTAUGHT_CRASH_AFTER_WRITES"
CRASH_MODE_ENV = "SELFTAUGHT_CRASH_MODE"
CRASH_EXIT_CODE = 75

_SCHEMA = """
CREATE TABLE IF NOT EXISTS programs (
    sha256 TEXT PRIMARY KEY, source TEXT NOT NULL, kind TEXT NOT NULL, parent TEXT,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS evaluations (
    sha256 TEXT NOT NULL, task TEXT NOT NULL, split TEXT NOT NULL, score REAL NOT NULL,
    seconds REAL NOT NULL, error TEXT, created REAL NOT NULL, margin REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (sha256, task, split));
CREATE TABLE IF NOT EXISTS lm_calls (
    key TEXT PRIMARY KEY, spec TEXT NOT NULL, prompt_hash TEXT NOT NULL,
    sample_index INTEGER NOT NULL, temperature REAL NOT NULL, max_tokens INTEGER NOT NULL,
    response TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    seconds REAL NOT NULL, cached INTEGER NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, kind TEXT NOT NULL,
    session TEXT NOT NULL, program TEXT, detail TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    key TEXT PRIMARY KEY, improver TEXT NOT NULL, task TEXT NOT NULL, result TEXT,
    val REAL NOT NULL, test REAL NOT NULL, status TEXT NOT NULL, error TEXT,
    lm_calls INTEGER NOT NULL, utility_calls INTEGER NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS iterations (
    t INTEGER PRIMARY KEY, improver TEXT NOT NULL, val REAL NOT NULL, test REAL NOT NULL,
    adopted INTEGER NOT NULL, candidate TEXT, candidate_val REAL, candidate_test REAL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SimulatedKill(BaseException):
    """Raised by the kill test hook; a BaseException so that no handler swallows it."""


def sha256_text(text: str) -> str:
    """The SHA-256 hex digest of a UTF-8 string (the identity of a program)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Evaluation:
    """One stored score of a program on one task split.

    `margin` is the most the score could move if the instances whose CPU time was near the
    task's limit were judged the other way (`ScoreResult.margin`); smaller differences are ties.
    """

    score: float
    seconds: float
    error: str | None
    margin: float = 0.0


@dataclass(frozen=True)
class SessionRecord:
    """The outcome of one improver session (`result` is a program hash or None)."""

    key: str
    improver: str
    task: str
    result: str | None
    val: float
    test: float
    status: str
    error: str | None
    lm_calls: int
    utility_calls: int


@dataclass(frozen=True)
class IterationRecord:
    """One step of the self-improvement loop."""

    t: int
    improver: str
    val: float
    test: float
    adopted: bool
    candidate: str | None
    candidate_val: float | None
    candidate_test: float | None


def readonly_connection(path: Path) -> sqlite3.Connection:
    """A connection that never creates or changes a file, not even the WAL's `-wal`/`-shm`.

    SQLite's `mode=ro` still creates those two files for a WAL database; `immutable=1` does not,
    but it ignores a live writer's log. So a database with a `-wal` file beside it (a writer is
    running, or crashed) is opened `mode=ro`, which needs and reuses that log, and any other one
    `immutable=1`.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "no such file", str(path))
    live_log = Path(f"{path}-wal").exists()
    flag = "mode=ro" if live_log else "immutable=1"
    return sqlite3.connect(f"{path.as_uri()}?{flag}", uri=True, timeout=10, check_same_thread=False)


def _check_intact(conn: sqlite3.Connection, path: Path) -> None:
    """Raise DamagedStore unless the database at `path` reads back whole."""
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        verdict = [(str(exc),)]
    if verdict != [("ok",)]:
        conn.close()
        raise DamagedStore(
            f"{path} is damaged or not a run database ({verdict[0][0]}); "
            "restore it from a copy or start a new run in another directory"
        )


def _has_margin(conn: sqlite3.Connection) -> bool:
    return any(row[1] == "margin" for row in conn.execute("PRAGMA table_info(evaluations)"))


class RunStore:
    """Thread-safe access to a run directory's database.

    `read_only=True` opens an existing database without creating or changing any file (for
    reports and listings, also on read-only media); writes then fail. Either way a truncated or
    corrupt database raises `DamagedStore` here, before anything else happens.
    """

    def __init__(self, run_dir: Path | str, *, read_only: bool = False) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / DB_NAME
        self.read_only = read_only
        self._lock = threading.RLock()
        self._conn = self._open_readonly() if read_only else self._open_for_writing()
        # An older store opened read-only keeps its schema: its evaluations have margin 0.
        self._margin = "margin" if _has_margin(self._conn) else "0"
        self._writes = 0
        crash = os.environ.get(CRASH_ENV, "")
        self._crash_after = int(crash) if crash.isdigit() else None
        # "raise" simulates the kill in-process (SimulatedKill), anything else exits the process.
        self._crash_raise = os.environ.get(CRASH_MODE_ENV, "exit") == "raise"
        self._dead = False

    def _open_readonly(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise ConfigError(f"{self.run_dir} is not a run directory (no {DB_NAME})")
        conn = readonly_connection(self.path)
        _check_intact(conn, self.path)
        return conn

    def _open_for_writing(self) -> sqlite3.Connection:
        existed = self.path.is_file()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if existed:
            _check_intact(conn, self.path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        if not _has_margin(conn):  # a store written before evaluations had margins
            conn.execute("ALTER TABLE evaluations ADD COLUMN margin REAL NOT NULL DEFAULT 0")
        return conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- plumbing -------------------------------------------------------------------------------
    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._lock:
            if self._dead:
                raise SimulatedKill("the run store was killed (test hook)")
            cursor = self._conn.execute(sql, params)
            self._writes += 1
            if self._crash_after is not None and self._writes >= self._crash_after:
                if not self._crash_raise:
                    os._exit(CRASH_EXIT_CODE)  # as a kill right after a committed write
                self._dead = True
                raise SimulatedKill("the run store was killed (test hook)")
            return cursor.rowcount

    def _one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read-only access for reports and tests."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- programs -------------------------------------------------------------------------------
    def add_program(self, source: str, kind: str, parent: str | None = None) -> str:
        """Store a program (idempotent) and return its SHA-256."""
        sha = sha256_text(source)
        self._write(
            "INSERT OR IGNORE INTO programs VALUES (?, ?, ?, ?, ?)",
            (sha, source, kind, parent, time.time()),
        )
        return sha

    def program(self, sha: str) -> str | None:
        row = self._one("SELECT source FROM programs WHERE sha256 = ?", (sha,))
        return row[0] if row else None

    # -- evaluations ----------------------------------------------------------------------------
    def evaluation(self, sha: str, task: str, split: str) -> Evaluation | None:
        row = self._one(
            f"SELECT score, seconds, error, {self._margin} FROM evaluations"
            " WHERE sha256=? AND task=? AND split=?",
            (sha, task, split),
        )
        return Evaluation(*row) if row else None

    def add_evaluation(self, sha: str, task: str, split: str, ev: Evaluation) -> None:
        self._write(
            "INSERT OR IGNORE INTO evaluations"
            " (sha256, task, split, score, seconds, error, created, margin)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (sha, task, split, ev.score, ev.seconds, ev.error, time.time(), ev.margin),
        )

    # -- language-model samples -----------------------------------------------------------------
    def add_lm_sample(self, key: str, row: dict[str, Any]) -> None:
        """One sample; a key already present (a resumed run) is kept as first recorded."""
        self._write(
            "INSERT OR IGNORE INTO lm_calls VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                key,
                row["spec"],
                row["prompt_hash"],
                row["sample_index"],
                row["temperature"],
                row["max_tokens"],
                row["response"],
                row["prompt_tokens"],
                row["completion_tokens"],
                row["seconds"],
                int(row["cached"]),
                time.time(),
            ),
        )

    # -- events ---------------------------------------------------------------------------------
    def add_event(
        self,
        kind: str,
        session: str,
        detail: dict[str, Any],
        *,
        key: str | None = None,
        program: str | None = None,
    ) -> None:
        """Record an event; with a `key`, repeating it (on resume) is a no-op."""
        self._write(
            "INSERT OR IGNORE INTO events (key, kind, session, program, detail, created)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key, kind, session, program, json.dumps(detail, sort_keys=True), time.time()),
        )

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT kind, session, program, detail FROM events"
        rows = (
            self.query(sql + " WHERE kind = ? ORDER BY id", (kind,))
            if kind
            else self.query(sql + " ORDER BY id")
        )
        return [
            {"kind": k, "session": s, "program": p, "detail": json.loads(d)} for k, s, p, d in rows
        ]

    # -- sessions and iterations ----------------------------------------------------------------
    def session(self, key: str) -> SessionRecord | None:
        row = self._one(
            "SELECT key, improver, task, result, val, test, status, error, lm_calls,"
            " utility_calls FROM sessions WHERE key = ?",
            (key,),
        )
        return SessionRecord(*row) if row else None

    def add_session(self, rec: SessionRecord) -> None:
        # the columns are the record's fields in order, then the time it was written
        self._write(
            "INSERT OR IGNORE INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (*astuple(rec), time.time()),
        )

    def iteration(self, t: int) -> IterationRecord | None:
        row = self._one(
            "SELECT t, improver, val, test, adopted, candidate, candidate_val, candidate_test"
            " FROM iterations WHERE t = ?",
            (t,),
        )
        if not row:
            return None
        return IterationRecord(row[0], row[1], row[2], row[3], bool(row[4]), *row[5:])

    def iterations(self) -> list[IterationRecord]:
        rows = self.query("SELECT t FROM iterations ORDER BY t")
        return [rec for (t,) in rows if (rec := self.iteration(t)) is not None]

    def add_iteration(self, rec: IterationRecord) -> None:
        self._write(
            "INSERT OR IGNORE INTO iterations VALUES (?,?,?,?,?,?,?,?,?)",
            (
                rec.t,
                rec.improver,
                rec.val,
                rec.test,
                int(rec.adopted),
                rec.candidate,
                rec.candidate_val,
                rec.candidate_test,
                time.time(),
            ),
        )

    # -- small key/value facts ------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def holds_work(run_dir: Path | str) -> bool:
    """Whether a run directory's database records any work (a program, sample, score or session).

    A directory without any is not a run yet: a start that failed there may begin afresh.
    """
    if not (Path(run_dir) / DB_NAME).is_file():
        return False
    store = RunStore(run_dir, read_only=True)
    try:
        tables = ("programs", "lm_calls", "evaluations", "sessions", "iterations")
        return any(store.query(f"SELECT 1 FROM {table} LIMIT 1") for table in tables)
    finally:
        store.close()
