"""Backend wrappers for the loop: cross-session batching and logging every sample to the store.

The R runs of one meta-utility evaluation run concurrently and usually send the same prompt at
about the same moment. `BatchingBackend` collects requests that arrive within a short window from
concurrent callers and hands them to the wrapped backend in ONE `generate` call, which samples
identical conversations together (one prefill, batched decode).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from selftaught.lm.types import (
    Backend,
    Sample,
    SampleRequest,
    Usage,
    generate_streaming,
    sample_key,
)
from selftaught.store.recorder import SessionStore


@dataclass
class _Ticket:
    requests: list[SampleRequest]
    arrived: float
    result: list[list[Sample]] | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class BatchingBackend:
    """Merges concurrent `generate` calls arriving within `window` seconds into one.

    A batch is flushed as soon as every registered participant is waiting, or when the oldest
    waiting request is `window` seconds old. Only one underlying `generate` runs at a time.
    """

    def __init__(self, backend: Backend, window: float = 1.0) -> None:
        self.backend = backend
        self.spec = backend.spec
        self.window = window
        self._cond = threading.Condition()
        self._pending: list[_Ticket] = []
        self._participants = 0
        self._generate_lock = threading.Lock()
        self.batches = 0

    @property
    def usage(self) -> Usage:
        return self.backend.usage

    def join(self, count: int = 1) -> None:
        """Declare `count` more concurrent callers (register them all before any starts)."""
        with self._cond:
            self._participants += count

    def leave(self, count: int = 1) -> None:
        """A caller declared with `join` is done."""
        with self._cond:
            self._participants -= count
            self._cond.notify_all()

    @contextmanager
    def participant(self) -> Iterator[None]:
        """Declare one concurrent caller for the lifetime of the block."""
        self.join()
        try:
            yield
        finally:
            self.leave()

    def generate(self, requests: Sequence[SampleRequest]) -> list[list[Sample]]:
        ticket = _Ticket(list(requests), time.monotonic())
        with self._cond:
            self._pending.append(ticket)
            self._cond.notify_all()
            while not ticket.done.is_set():
                batch = self._take_batch_if_ready()
                if batch is not None:
                    break
                self._cond.wait(timeout=self._time_to_flush())
            else:
                batch = None
        if batch is not None:
            self._run_batch(batch)
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.result is not None
        return ticket.result

    def _time_to_flush(self) -> float:
        if not self._pending:
            return self.window
        return max(0.01, self._pending[0].arrived + self.window - time.monotonic())

    def _take_batch_if_ready(self) -> list[_Ticket] | None:
        if not self._pending:
            return None
        everyone = len(self._pending) >= max(1, self._participants)
        expired = time.monotonic() - self._pending[0].arrived >= self.window
        if not (everyone or expired):
            return None
        batch, self._pending = self._pending, []
        return batch

    def _run_batch(self, batch: list[_Ticket]) -> None:
        merged = [req for ticket in batch for req in ticket.requests]
        try:
            with self._generate_lock:
                self.batches += 1
                results = self.backend.generate(merged) if merged else []
        except BaseException as exc:  # every waiting caller must learn about the failure
            for ticket in batch:
                ticket.error = exc
                ticket.done.set()
            return
        start = 0
        for ticket in batch:
            ticket.result = results[start : start + len(ticket.requests)]
            start += len(ticket.requests)
            ticket.done.set()
        with self._cond:
            self._cond.notify_all()


def prompt_hash(request: SampleRequest) -> str:
    """A SHA-256 over a request's conversation."""
    payload = json.dumps([list(m) for m in request.messages], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class StoreLoggingBackend:
    """Writes every returned sample into the run store's `lm_calls` table (once per key)."""

    def __init__(
        self,
        backend: Backend,
        store: SessionStore,
        on_samples: Callable[[int], None] | None = None,
    ) -> None:
        self.backend = backend
        self.spec = backend.spec
        self.store = store
        self.on_samples = on_samples

    @property
    def usage(self) -> Usage:
        return self.backend.usage

    def generate(self, requests: Sequence[SampleRequest]) -> list[list[Sample]]:
        # Each sample is logged (and counted for progress) as it arrives, not when the call ends.
        def arrived(pos: int, j: int, sample: Sample) -> None:
            request = requests[pos]
            index = request.first_index + j
            key = sample_key(
                self.spec, request.messages, request.temperature, request.max_tokens, index
            )
            self.store.add_lm_sample(
                key,
                {
                    "spec": self.spec,
                    "prompt_hash": prompt_hash(request),
                    "sample_index": index,
                    "temperature": request.temperature,
                    "max_tokens": request.max_tokens,
                    "response": sample.text,
                    "prompt_tokens": sample.prompt_tokens,
                    "completion_tokens": sample.completion_tokens,
                    "seconds": sample.seconds,
                    "cached": sample.cached,
                },
            )
            if self.on_samples is not None:
                self.on_samples(1)

        return generate_streaming(self.backend, requests, arrived)
