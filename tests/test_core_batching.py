"""The cross-session aggregator merges concurrent requests into one backend call."""

from __future__ import annotations

import threading
import time

from selftaught.core.batching import BatchingBackend
from selftaught.lm.types import Sample, SampleRequest, Usage


class SlowBackend:
    spec = "fake"
    usage = Usage()

    def __init__(self) -> None:
        self.calls: list[list[SampleRequest]] = []

    def generate(self, requests: list[SampleRequest]) -> list[list[Sample]]:
        self.calls.append(list(requests))
        time.sleep(0.05)
        return [
            [Sample(f"{r.messages[-1][1]}:{i}", 1, 1, 0.0) for i in r.indices] for r in requests
        ]


def request(text: str, first: int) -> SampleRequest:
    return SampleRequest((("user", text),), 2, 0.7, 16, first)


def test_concurrent_participants_share_one_generate_call() -> None:
    inner = SlowBackend()
    batching = BatchingBackend(inner, window=5.0)
    results: dict[int, list[list[Sample]]] = {}

    def worker(run: int) -> None:
        try:
            time.sleep(0.02 * run)
            results[run] = batching.generate([request("same prompt", 100 * run)])
        finally:
            batching.leave()

    batching.join(3)

    threads = [threading.Thread(target=worker, args=(r,)) for r in range(3)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - start < 2.0  # flushed when everyone arrived, not after the window
    assert len(inner.calls) == 1 and len(inner.calls[0]) == 3
    for run in range(3):
        assert [s.text for s in results[run][0]] == [
            f"same prompt:{100 * run}",
            f"same prompt:{100 * run + 1}",
        ]


def test_a_lone_caller_is_not_delayed_and_errors_propagate() -> None:
    inner = SlowBackend()
    batching = BatchingBackend(inner, window=5.0)
    start = time.monotonic()
    assert batching.generate([request("x", 0)])[0][0].text == "x:0"
    assert time.monotonic() - start < 1.0

    class Broken(SlowBackend):
        def generate(self, requests):  # type: ignore[no-untyped-def]
            raise RuntimeError("backend down")

    broken = BatchingBackend(Broken(), window=0.1)
    try:
        broken.generate([request("x", 0)])
    except RuntimeError as exc:
        assert "down" in str(exc)
    else:
        raise AssertionError("the backend error was swallowed")
