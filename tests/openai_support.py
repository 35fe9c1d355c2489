"""A tiny local OpenAI-compatible chat-completions server whose behaviour tests set (canned
JSON, no model): protocol, concurrency and plumbing tests of the `openai:` backend."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeServer:
    """Chat-completions endpoint whose behaviour the test sets through attributes."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first: list[int] = []  # HTTP statuses returned before succeeding
        self.n_mode = "honour"  # or "ignore" (always one choice) or "reject" (400 when n > 1)
        self.delay = 0.0  # seconds each answer takes
        self.retry_after: str | None = None  # a Retry-After header on every answer
        self.spans: list[tuple[float, float]] = []  # (start, end) of each answered request
        self.times: list[float] = []  # when each request arrived
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                start = time.monotonic()
                status, payload = server.respond(self.path, body)
                time.sleep(server.delay)
                with server.lock:
                    server.spans.append((start, time.monotonic()))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if server.retry_after is None:
                    self.send_header("retry-after-ms", "10")
                else:
                    self.send_header("retry-after", server.retry_after)
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
            self.times.append(time.monotonic())
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
