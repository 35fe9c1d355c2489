"""The persistent response cache (SQLite, WAL) and the backend wrapper that consults it.

A sample is keyed by (spec, messages, temperature, max_tokens, sample index), so a repeated or
resumed run never pays twice for the same sample. Samples are stored one by one as they arrive
(not when the whole call returns), so a stop mid-call loses none that were finished. Threads
share one connection behind a lock; processes share the file through WAL mode and a busy
timeout.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from selftaught.lm.types import (
    Backend,
    Sample,
    SampleRequest,
    SampleSink,
    Usage,
    UsageMeter,
    generate_streaming,
    sample_key,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    key TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    messages TEXT NOT NULL,
    temperature REAL NOT NULL,
    max_tokens INTEGER NOT NULL,
    sample_index INTEGER NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    seconds REAL NOT NULL,
    created REAL NOT NULL
)
"""


def retry_while_locked(step: Callable[[], object], seconds: float = 60.0) -> None:
    """Run `step` until SQLite stops answering "database is locked", for up to `seconds`.

    Switching a file to WAL while another process opens or converts it can fail at once with
    that error: SQLite skips its busy handler there, so `busy_timeout` does not wait for it.
    """
    end, pause = time.monotonic() + seconds, 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > end:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


class ResponseCache:
    """A key -> Sample store in one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, timeout=60.0, check_same_thread=False, isolation_level=None
        )
        self._conn.execute("PRAGMA busy_timeout = 60000")
        retry_while_locked(lambda: self._conn.execute("PRAGMA journal_mode = WAL"))
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(_SCHEMA)

    def get_many(self, keys: Sequence[str]) -> dict[str, Sample]:
        """The cached samples among ``keys`` (marked ``cached``)."""
        found: dict[str, Sample] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    "SELECT key, text, prompt_tokens, completion_tokens, seconds "
                    f"FROM samples WHERE key IN ({marks})",
                    chunk,
                ).fetchall()
                for key, text, ptok, ctok, secs in rows:
                    found[key] = Sample(text, ptok, ctok, secs, cached=True)
        return found

    def put_many(self, entries: Sequence[tuple[str, str, SampleRequest, int, Sample]]) -> None:
        """Store ``(key, spec, request, sample_index, sample)`` entries in one transaction."""
        if not entries:
            return
        now = time.time()
        rows = [
            (
                key,
                spec,
                json.dumps([list(m) for m in req.messages], ensure_ascii=False),
                req.temperature,
                req.max_tokens,
                index,
                s.text,
                s.prompt_tokens,
                s.completion_tokens,
                s.seconds,
                now,
            )
            for key, spec, req, index, s in entries
        ]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO samples VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class CachedBackend:
    """Serves samples from a ResponseCache and sends only the misses to the inner backend."""

    streams_samples = True

    def __init__(self, inner: Backend, cache: ResponseCache) -> None:
        self.inner = inner
        self.cache = cache
        self.spec = inner.spec
        # A backend may narrow its keys further than its spec (a server's address, say), so that
        # two servers answering to the same model name never share cached answers.
        self.scope: str = getattr(inner, "cache_scope", inner.spec)
        self._meter = UsageMeter()

    @property
    def usage(self) -> Usage:
        return self._meter.total

    def key(self, request: SampleRequest, index: int) -> str:
        r = request
        return sample_key(self.scope, r.messages, r.temperature, r.max_tokens, index)

    def generate(
        self, requests: Sequence[SampleRequest], on_sample: SampleSink | None = None
    ) -> list[list[Sample]]:
        """Cached samples first, then the misses from the inner backend; each fresh sample is
        written to the cache the moment it arrives, so a stop mid-call keeps every finished one
        and a re-run draws only the missing ones."""
        keys = [[self.key(r, i) for i in r.indices] for r in requests]
        hits = self.cache.get_many([k for ks in keys for k in ks])
        if on_sample is not None:
            for pos, ks in enumerate(keys):
                for j, key in enumerate(ks):
                    if key in hits:
                        on_sample(pos, j, hits[key])
        misses, owners = _miss_requests(requests, keys, hits)

        def arrived(miss_pos: int, j: int, sample: Sample) -> None:
            req_pos, offset = owners[miss_pos]
            miss = misses[miss_pos]
            key = keys[req_pos][offset + j]
            self.cache.put_many([(key, self.spec, miss, miss.first_index + j, sample)])
            hits[key] = sample
            if on_sample is not None:
                on_sample(req_pos, offset + j, sample)

        if misses:
            generate_streaming(self.inner, misses, arrived)
        out = [[hits[k] for k in ks] for ks in keys]
        self._meter.record_call([s for row in out for s in row])
        return out


def _miss_requests(
    requests: Sequence[SampleRequest], keys: list[list[str]], hits: dict[str, Sample]
) -> tuple[list[SampleRequest], list[tuple[int, int]]]:
    """Contiguous runs of missing sample indices, as requests, with (request, offset) owners."""
    misses: list[SampleRequest] = []
    owners: list[tuple[int, int]] = []
    for pos, (req, ks) in enumerate(zip(requests, keys, strict=True)):
        j = 0
        while j < len(ks):
            if ks[j] in hits:
                j += 1
                continue
            start = j
            while j < len(ks) and ks[j] not in hits:
                j += 1
            misses.append(
                SampleRequest(
                    req.messages,
                    j - start,
                    req.temperature,
                    req.max_tokens,
                    req.first_index + start,
                    req.stop,
                    req.halt,
                )
            )
            owners.append((pos, start))
    return misses, owners
