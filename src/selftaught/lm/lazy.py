"""A backend that opens its model only when first asked for samples.

With `--executor ray` the driver may never sample at all (`improve`, `compare` and `transfer` run
every session on workers), and loading an embedded model costs seconds and gigabytes. The spec is
known without loading, so sample keys are the same as the eager backend's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from selftaught.lm.spec import parse_spec
from selftaught.lm.types import (
    Backend,
    Sample,
    SampleRequest,
    SampleSink,
    Usage,
    generate_streaming,
)


class LazyBackend:
    """`open_backend()` on the first `generate`; the same spec and usage as what it opens."""

    streams_samples = True  # passes a sample sink on to what it opens

    def __init__(self, spec: str, open_backend: Callable[[], Backend]) -> None:
        self.spec = parse_spec(spec).canonical
        self._open = open_backend
        self._lock = threading.Lock()
        self._backend: Backend | None = None

    @property
    def opened(self) -> bool:
        return self._backend is not None

    def _get(self) -> Backend:
        with self._lock:
            if self._backend is None:
                backend = self._open()
                if backend.spec != self.spec:  # sample keys would silently differ otherwise
                    raise AssertionError(f"opened {backend.spec!r} for spec {self.spec!r}")
                self._backend = backend
            return self._backend

    @property
    def usage(self) -> Usage:
        return self._backend.usage if self._backend is not None else Usage()

    def generate(
        self, requests: Sequence[SampleRequest], on_sample: SampleSink | None = None
    ) -> list[list[Sample]]:
        return generate_streaming(self._get(), requests, on_sample)
