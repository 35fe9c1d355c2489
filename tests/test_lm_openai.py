"""The openai: backend against a tiny local fake server (protocol tests; canned JSON, no model)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from selftaught.errors import InvalidLMRequest, ModelUnavailable
from selftaught.lm import SampleRequest, open_model
from selftaught.lm.cache import CachedBackend, ResponseCache
from selftaught.lm.openai_backend import OpenAIBackend

MSGS = (("system", "sys"), ("user", "hello"))


class FakeServer:
    """Chat-completions endpoint whose behaviour the test sets through attributes."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first: list[int] = []  # HTTP statuses returned before succeeding
        self.n_mode = "honour"  # or "ignore" (always one choice) or "reject" (400 when n > 1)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, payload = server.respond(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("retry-after-ms", "10")
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def respond(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(body)
            if self.fail_first:
                status = self.fail_first.pop(0)
                return status, {"error": {"message": f"status {status}", "type": "x"}}
        n = int(body.get("n", 1))
        if self.n_mode == "reject" and n > 1:
            return 400, {"error": {"message": "'n' must be 1 for this model", "type": "x"}}
        if self.n_mode == "ignore":
            n = 1
        last = body["messages"][-1]["content"]
        with self.lock:
            serial = len(self.requests)
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": f"{last}/{serial}/{i}"},
                "finish_reason": "stop",
            }
            for i in reversed(range(n))  # out of order on purpose: the client must sort
        ]
        usage = {"prompt_tokens": 5, "completion_tokens": 3 * n, "total_tokens": 5 + 3 * n}
        return 200, {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": choices,
            "usage": usage,
        }

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


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
