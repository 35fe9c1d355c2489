"""The persistent response cache: hits, misses, partial hits, persistence, threads, processes."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from selftaught.lm import CachedBackend, ResponseCache, Sample, SampleRequest, Usage, open_model
from selftaught.lm.cache import retry_while_locked
from selftaught.lm.paths import cache_dir, default_cache_path, model_dir
from selftaught.lm.types import UsageMeter, sample_key

MSGS = (("system", "be brief"), ("user", "hello"))


class Counting:
    """A test double that numbers every sample it produces, so a re-generation is visible."""

    spec = "counting"

    def __init__(self) -> None:
        self.produced = 0
        self.requests: list[SampleRequest] = []
        self._lock = threading.Lock()
        self._meter = UsageMeter()

    @property
    def usage(self) -> Usage:
        return self._meter.total

    def generate(self, requests: Sequence[SampleRequest]) -> list[list[Sample]]:
        out = []
        with self._lock:
            for r in requests:
                self.requests.append(r)
                row = []
                for i in r.indices:
                    self.produced += 1
                    row.append(Sample(f"i{i}-p{self.produced}", 5, 7, 0.5))
                out.append(row)
        self._meter.record_call([s for row in out for s in row])
        return out


def test_second_ask_is_a_hit_and_costs_nothing(tmp_path: Path) -> None:
    inner = Counting()
    backend = CachedBackend(inner, ResponseCache(tmp_path / "c.sqlite3"))
    first = backend.generate([SampleRequest(MSGS, 3, 0.7)])
    second = backend.generate([SampleRequest(MSGS, 3, 0.7)])
    assert [s.text for s in first[0]] == [s.text for s in second[0]]
    assert inner.produced == 3
    assert not any(s.cached for s in first[0])
    assert all(s.cached for s in second[0])
    assert backend.usage.cache_hits == 3
    assert backend.usage.samples == 6
    assert backend.usage.completion_tokens == 21  # only the fresh samples count


def test_only_missing_indices_are_generated_in_contiguous_runs(tmp_path: Path) -> None:
    inner = Counting()
    backend = CachedBackend(inner, ResponseCache(tmp_path / "c.sqlite3"))
    backend.generate([SampleRequest(MSGS, 1, 0.7, first_index=1)])
    backend.generate([SampleRequest(MSGS, 1, 0.7, first_index=3)])
    inner.requests.clear()
    out = backend.generate([SampleRequest(MSGS, 5, 0.7)])
    assert [s.text.split("-")[0] for s in out[0]] == ["i0", "i1", "i2", "i3", "i4"]
    assert [(r.first_index, r.n) for r in inner.requests] == [(0, 1), (2, 1), (4, 1)]


def test_misses_reach_the_backend_with_their_stop_and_halt_strings(tmp_path: Path) -> None:
    inner = Counting()
    backend = CachedBackend(inner, ResponseCache(tmp_path / "c.sqlite3"))
    backend.generate([SampleRequest(MSGS, 2, 0.7, stop=("```",), halt=("# New",))])
    [request] = inner.requests
    assert (request.stop, request.halt) == (("```",), ("# New",))
    # neither is part of the key: the same index with other strings is a hit
    backend.generate([SampleRequest(MSGS, 2, 0.7)])
    assert inner.produced == 2


@pytest.mark.parametrize(
    "other",
    [
        SampleRequest(MSGS, 1, 0.8),
        SampleRequest(MSGS, 1, 0.7, max_tokens=50),
        SampleRequest(MSGS, 1, 0.7, first_index=1),
        SampleRequest((("user", "hello"),), 1, 0.7),
    ],
)
def test_every_key_field_matters(tmp_path: Path, other: SampleRequest) -> None:
    inner = Counting()
    backend = CachedBackend(inner, ResponseCache(tmp_path / "c.sqlite3"))
    backend.generate([SampleRequest(MSGS, 1, 0.7)])
    backend.generate([other])
    assert inner.produced == 2


def test_spec_is_part_of_the_key() -> None:
    assert sample_key("a", MSGS, 0.7, 10, 0) != sample_key("b", MSGS, 0.7, 10, 0)
    assert sample_key("a", MSGS, 0.7, 10, 0) == sample_key("a", MSGS, 0.7, 10, 0)


def test_cache_persists_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    first = CachedBackend(Counting(), ResponseCache(path)).generate([SampleRequest(MSGS, 2, 0.7)])
    inner = Counting()
    again = CachedBackend(inner, ResponseCache(path)).generate([SampleRequest(MSGS, 2, 0.7)])
    assert [s.text for s in again[0]] == [s.text for s in first[0]]
    assert inner.produced == 0


def test_results_keep_request_order_with_mixed_hits(tmp_path: Path) -> None:
    inner = Counting()
    backend = CachedBackend(inner, ResponseCache(tmp_path / "c.sqlite3"))
    other = (("user", "other"),)
    backend.generate([SampleRequest(other, 1, 0.0)])
    out = backend.generate([SampleRequest(MSGS, 2, 0.0), SampleRequest(other, 1, 0.0)])
    assert [len(row) for row in out] == [2, 1]
    assert out[1][0].cached and not out[0][0].cached


def test_concurrent_threads_share_one_cache(tmp_path: Path) -> None:
    backend = CachedBackend(Counting(), ResponseCache(tmp_path / "c.sqlite3"))
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for k in range(20):
                backend.generate([SampleRequest((("user", f"t{t}-{k % 5}"),), 2, 0.7)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(backend.cache) == 6 * 5 * 2


def _process_writer(path: str, worker: int) -> None:
    backend = CachedBackend(Counting(), ResponseCache(path))
    for k in range(30):
        backend.generate([SampleRequest((("user", f"w{worker}-{k}"),), 1, 0.7)])


def test_concurrent_processes_share_one_cache_file(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite3")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_writer, args=(path, w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert len(ResponseCache(path)) == 90


def test_default_paths_follow_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SELFTAUGHT_CACHE_DIR", raising=False)
    monkeypatch.delenv("SELFTAUGHT_MODEL_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "selftaught"
    assert model_dir() == tmp_path / "xdg" / "selftaught" / "models"
    monkeypatch.setenv("SELFTAUGHT_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_path() == tmp_path / "mine" / "responses.sqlite3"
    monkeypatch.setenv("SELFTAUGHT_MODEL_DIR", str(tmp_path / "models"))
    assert model_dir() == tmp_path / "models"


def test_open_model_cache_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = tmp_path / "r.jsonl"
    rec.write_text("")
    # replay is never cached; a path or True wraps other backends.
    assert not isinstance(open_model(f"replay:{rec}", cache=True), CachedBackend)
    monkeypatch.setenv("SELFTAUGHT_CACHE_DIR", str(tmp_path / "cd"))
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    cached = open_model("openai:m", cache=True)
    assert isinstance(cached, CachedBackend)
    assert cached.cache.path == (tmp_path / "cd" / "responses.sqlite3").resolve()
    assert not isinstance(open_model("openai:m", cache=False), CachedBackend)
    other = open_model("openai:m", cache=tmp_path / "x.sqlite3")
    assert isinstance(other, CachedBackend)
    assert other.cache.path == (tmp_path / "x.sqlite3").resolve()


def failing_steps(*errors: str):  # type: ignore[no-untyped-def]
    """A step that raises these OperationalErrors in turn, then succeeds; and its call list."""
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        if len(calls) <= len(errors):
            raise sqlite3.OperationalError(errors[len(calls) - 1])

    return step, calls


def test_a_locked_database_is_retried_until_the_step_takes() -> None:
    step, calls = failing_steps("database is locked", "database is locked")
    retry_while_locked(step)
    assert len(calls) == 3


def test_other_errors_and_a_lock_that_outlasts_the_wait_are_raised() -> None:
    step, calls = failing_steps("no such table: samples")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        retry_while_locked(step)
    assert len(calls) == 1
    step, calls = failing_steps(*["database is locked"] * 100)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        retry_while_locked(step, seconds=0.05)
    assert 1 < len(calls) < 100
