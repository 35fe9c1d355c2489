"""The openai: backend against a tiny local fake server (protocol tests; canned JSON, no model)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openai_support import FakeServer
from selftaught.errors import InvalidLMRequest, ModelUnavailable
from selftaught.lm import SampleRequest, open_model
from selftaught.lm.cache import CachedBackend, ResponseCache
from selftaught.lm.openai_backend import OpenAIBackend

MSGS = (("system", "sys"), ("user", "hello"))


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer()
    yield srv
    srv.close()


def backend(server: FakeServer, **kw: Any) -> OpenAIBackend:
    return OpenAIBackend("fake-model", base_url=server.url, api_key="k", **kw)


def test_n_samples_in_one_request_in_order(server: FakeServer) -> None:
    b = backend(server)
    [row] = b.generate([SampleRequest(MSGS, 3, 0.5, 64)])
    assert [s.text for s in row] == ["hello/1/0", "hello/1/1", "hello/1/2"]
    [req] = server.requests
    assert req["n"] == 3 and req["temperature"] == 0.5 and req["max_tokens"] == 64
    assert req["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hello"},
    ]
    assert b.usage.prompt_tokens == 5 and b.usage.completion_tokens == 9


def test_identical_requests_share_one_call_and_keep_request_order(server: FakeServer) -> None:
    b = backend(server)
    other = (("user", "other"),)
    rows = b.generate(
        [SampleRequest(MSGS, 1, 0.7), SampleRequest(other, 1, 0.7), SampleRequest(MSGS, 2, 0.7)]
    )
    assert len(server.requests) == 2
    assert [len(r) for r in rows] == [1, 1, 2]
    assert rows[1][0].text.startswith("other/")
    assert {s.text.split("/")[0] for s in rows[0] + rows[2]} == {"hello"}
    assert len({s.text for s in rows[0] + rows[2]}) == 3


def test_rate_limit_then_success_is_retried(server: FakeServer) -> None:
    server.fail_first = [429, 503]
    [row] = backend(server, max_retries=3).generate([SampleRequest(MSGS, 2, 0.7)])
    assert len(row) == 2
    assert len(server.requests) == 3


def test_persistent_failure_is_a_clear_error(server: FakeServer) -> None:
    server.fail_first = [500] * 10
    with pytest.raises(ModelUnavailable, match="failed after retries"):
        backend(server, max_retries=1).generate([SampleRequest(MSGS, 1, 0.7)])
    assert len(server.requests) == 2


def test_server_ignoring_n_falls_back_to_single_requests(server: FakeServer) -> None:
    server.n_mode = "ignore"
    b = backend(server)
    [row] = b.generate([SampleRequest(MSGS, 3, 0.7)])
    assert len(row) == 3 and len({s.text for s in row}) == 3
    assert [r.get("n") for r in server.requests] == [3, 1, 1]
    assert not b.n_supported


def test_server_rejecting_n_falls_back_to_single_requests(server: FakeServer) -> None:
    server.n_mode = "reject"
    b = backend(server)
    [row] = b.generate([SampleRequest(MSGS, 2, 0.7)])
    assert len(row) == 2
    assert [r.get("n") for r in server.requests] == [2, 1, 1]


def test_authentication_and_bad_request_errors(server: FakeServer) -> None:
    server.fail_first = [401]
    with pytest.raises(ModelUnavailable, match="OPENAI_API_KEY"):
        backend(server).generate([SampleRequest(MSGS, 1, 0.7)])
    server.fail_first = [400]
    with pytest.raises(InvalidLMRequest, match="rejected the request"):
        backend(server).generate([SampleRequest(MSGS, 1, 0.7)])


def test_base_url_and_key_from_environment(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    b = open_model("openai:fake-model", cache=False)
    [[sample]] = b.generate([SampleRequest(MSGS, 1, 0.7)])
    assert sample.text == "hello/1/0"


def test_no_key_and_no_url_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelUnavailable, match="OPENAI_API_KEY"):
        open_model("openai:gpt-x", cache=False)


def test_cached_answers_are_kept_apart_per_server(server: FakeServer, tmp_path: Path) -> None:
    other = FakeServer()
    try:
        cache = ResponseCache(tmp_path / "shared.sqlite")
        request = [SampleRequest((("user", "same prompt"),), n=1, temperature=0.5)]
        first = CachedBackend(backend(server), cache).generate(request)
        again = CachedBackend(backend(server), cache).generate(request)
        assert again[0][0].text == first[0][0].text and again[0][0].cached
        assert len(server.requests) == 1  # the same server: answered from the cache
        elsewhere = CachedBackend(backend(other), cache).generate(request)
        assert len(other.requests) == 1 and not elsewhere[0][0].cached  # another server: asked
    finally:
        other.close()


# -- concurrency, retries, per-sample caching ---------------------------------------------------


def _most_overlapping(spans: list[tuple[float, float]]) -> int:
    """The largest number of requests the server was answering at one moment."""
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    now = peak = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


def test_samples_of_a_server_ignoring_n_are_fetched_concurrently(server: FakeServer) -> None:
    server.n_mode, server.delay = "ignore", 0.3
    b = backend(server, max_concurrency=4)
    b.n_supported = False  # as after a first call: one request per sample from the start
    start = time.monotonic()
    [row] = b.generate([SampleRequest(MSGS, 6, 0.7)])
    wall = time.monotonic() - start
    assert len(row) == 6 and len({s.text for s in row}) == 6
    assert len(server.requests) == 6
    assert _most_overlapping(server.spans) == 4  # never more than --max-concurrency
    assert wall < 6 * 0.3 * 0.6  # two rounds of 4 and 2, not six serial round trips


def test_max_concurrency_one_is_the_serial_fallback(server: FakeServer) -> None:
    server.n_mode, server.delay = "ignore", 0.05
    [row] = backend(server, max_concurrency=1).generate([SampleRequest(MSGS, 4, 0.7)])
    assert len(row) == 4
    assert [r.get("n") for r in server.requests] == [4, 1, 1, 1]
    assert _most_overlapping(server.spans) == 1


def test_max_concurrency_bounds_are_checked(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selftaught.errors import ConfigError

    with pytest.raises(ConfigError, match="max_concurrency must be an integer >= 1"):
        backend(server, max_concurrency=0)
    monkeypatch.setenv("SELFTAUGHT_MAX_CONCURRENCY", "3")
    assert backend(server).max_concurrency == 3
    monkeypatch.setenv("SELFTAUGHT_MAX_CONCURRENCY", "many")
    with pytest.raises(ConfigError, match="SELFTAUGHT_MAX_CONCURRENCY must be an integer"):
        backend(server)


def test_samples_are_handed_on_as_they_arrive_in_the_calling_thread(server: FakeServer) -> None:
    server.n_mode, server.delay = "ignore", 0.2
    b = backend(server, max_concurrency=1)
    b.n_supported = False
    seen: list[tuple[int, int, float, int]] = []
    start = time.monotonic()
    rows = b.generate(
        [SampleRequest(MSGS, 2, 0.7), SampleRequest((("user", "x"),), 1, 0.7)],
        on_sample=lambda p, j, s: seen.append(
            (p, j, time.monotonic() - start, threading.get_ident())
        ),
    )
    assert sorted((p, j) for p, j, _, _ in seen) == [(0, 0), (0, 1), (1, 0)]
    assert {t for *_, t in seen} == {threading.get_ident()}
    arrivals = sorted(t for _, _, t, _ in seen)
    assert arrivals[0] < 0.35 and arrivals[-1] > 0.5  # one by one, not all at the end
    assert [len(r) for r in rows] == [2, 1]


def test_retry_after_is_honoured(server: FakeServer) -> None:
    """The client's own retries (max_retries) wait what Retry-After asks, then succeed."""
    server.fail_first, server.retry_after = [429], "1"
    [row] = backend(server, max_retries=2).generate([SampleRequest(MSGS, 1, 0.7)])
    assert len(row) == 1 and len(server.times) == 2
    assert server.times[1] - server.times[0] >= 0.9


def test_a_failure_mid_call_keeps_every_finished_sample(server: FakeServer, tmp_path: Path) -> None:
    """Samples are cached and recorded as they arrive: after a call that fails half-way, a
    re-run asks the server only for the samples that were never drawn."""
    server.n_mode = "ignore"
    cache_path, record = tmp_path / "c.sqlite", tmp_path / "rec.jsonl"
    request = [SampleRequest(MSGS, 5, 0.7)]
    first = open_model(
        "openai:fake-model", cache=cache_path, record=record, base_url=server.url, api_key="k"
    )
    inner = first.inner.inner  # type: ignore[attr-defined]
    inner.max_concurrency = 1
    inner._slots = threading.BoundedSemaphore(1)
    # the 1st request (n=5) and two single ones succeed; every later one fails for good
    failing = server.respond

    def respond(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if len(server.requests) >= 3:
            with server.lock:
                server.requests.append(body)
            return 500, {"error": {"message": "down", "type": "x"}}
        return failing(path, body)

    server.respond = respond  # type: ignore[method-assign]
    with pytest.raises(ModelUnavailable):
        first.generate(request)
    assert len(ResponseCache(cache_path)) == 3
    assert len(record.read_text().splitlines()) == 3
    server.respond = failing  # type: ignore[method-assign]
    asked_before = len(server.requests)
    again = open_model(
        "openai:fake-model", cache=ResponseCache(cache_path), base_url=server.url, api_key="k"
    )
    [row] = again.generate(request)
    assert len(row) == 5 and sum(s.cached for s in row) == 3
    new = server.requests[asked_before:]
    assert [r.get("n") for r in new] == [2, 1]  # only the two missing samples (n ignored)


def test_samples_in_flight_when_a_request_fails_are_still_handed_on(server: FakeServer) -> None:
    """A failure stops new requests, but a sample the server is already drawing is paid for:
    it reaches the sink (the cache) before the call raises."""
    answer = server.respond

    def respond(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with server.lock:
            first = not server.requests
        if first:
            with server.lock:
                server.requests.append(body)
            return 400, {"error": {"message": "prompt too long", "type": "x"}}
        time.sleep(0.3)
        return answer(path, body)

    server.respond = respond  # type: ignore[method-assign]
    b = backend(server, max_concurrency=3)
    b.n_supported = False
    seen: list[int] = []
    with pytest.raises(InvalidLMRequest, match="prompt too long"):
        b.generate([SampleRequest(MSGS, 3, 0.7)], on_sample=lambda p, j, s: seen.append(j))
    assert len(seen) == 2 and len(server.requests) == 3
