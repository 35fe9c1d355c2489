"""``open_model``: from a spec string to a ready backend, wrapped with the cache and a recorder."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from selftaught.errors import ConfigError
from selftaught.lm.backends import BACKENDS, ModelSpec, OpenOptions
from selftaught.lm.cache import CachedBackend, ResponseCache
from selftaught.lm.paths import default_cache_path
from selftaught.lm.prices import PRICES_META, Price, price_of, with_price
from selftaught.lm.replay import RecordingBackend
from selftaught.lm.spec import parse_spec
from selftaught.lm.types import Backend

CacheArg = bool | str | Path | ResponseCache | None


class _MetaStore(Protocol):
    """The part of a run store that `ModelAccess.record_price` writes."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


_SHARED: dict[str, Backend] = {}
_SHARED_LOCK = threading.Lock()
_CACHES: dict[Path, ResponseCache] = {}


@dataclass(frozen=True)
class ModelAccess:
    """How this process reaches a model; never part of what a run computes.

    `base_url`: the server of an `openai:` spec (else `OPENAI_BASE_URL`). `cache`: False turns the
    response cache off. `record`: a JSONL file that receives every exchange, for `replay:`.
    `max_concurrency`: requests in flight at once to an `openai:` server (else
    `SELFTAUGHT_MAX_CONCURRENCY`, else 4). `prices`: (model, price) pairs that override or extend
    the built-in price table (`selftaught.lm.prices`).
    """

    base_url: str | None = None
    cache: bool = True
    record: Path | None = None
    max_concurrency: int | None = None
    prices: tuple[tuple[str, Price], ...] = ()

    def open(self, spec: str, cache: CacheArg = True) -> Backend:
        """`open_model(spec)` with these settings; `cache` is where cached answers go."""
        return open_model(
            spec,
            cache=cache if self.cache else False,
            record=self.record,
            base_url=self.base_url,
            max_concurrency=self.max_concurrency,
        )

    def price(self, spec: str) -> Price | None:
        """What `spec`'s tokens cost when reached this way (0 for local models; None: unknown)."""
        return price_of(spec, self.base_url, dict(self.prices))

    def record_price(self, store: _MetaStore, spec: str) -> None:
        """Note in a run store what `spec`'s tokens cost this way, for its report."""
        canonical = parse_spec(spec).canonical
        store.set_meta(
            PRICES_META, with_price(store.get_meta(PRICES_META), canonical, self.price(spec))
        )

    def for_workers(self) -> dict[str, object]:
        """What a remote worker needs to reach the model the same way (never the API key,
        which workers take from their own environment)."""
        return {"base_url": self.base_url, "max_concurrency": self.max_concurrency}


def open_model(
    spec: str = "embedded",
    *,
    cache: CacheArg = True,
    record: str | Path | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    progress: bool | None = None,
    max_concurrency: int | None = None,
) -> Backend:
    """Open the model named by ``spec``.

    ``cache``: True for the default response cache file, a path for another file, a ResponseCache,
    or False/None for no caching (``replay:`` specs are never cached). ``record``: a JSONL file that
    receives every exchange, readable by ``replay:``. ``base_url``, ``api_key`` and
    ``max_concurrency`` apply to ``openai:``. ``progress`` controls the first-use model-assembly
    progress bar (default: when stderr is a terminal). Local models are loaded once per process
    and shared.
    """
    parsed = parse_spec(spec)
    backend = _base_backend(
        parsed,
        base_url=base_url,
        api_key=api_key,
        progress=progress,
        max_concurrency=max_concurrency,
    )
    store = _resolve_cache(cache) if BACKENDS[parsed.kind].cached else None
    if store is not None:
        backend = CachedBackend(backend, store)
    if record is not None:
        backend = RecordingBackend(backend, record)
    return backend


def _resolve_cache(cache: CacheArg) -> ResponseCache | None:
    if cache is None or cache is False:
        return None
    if isinstance(cache, ResponseCache):
        return cache
    if cache is True:
        path = default_cache_path()
    elif isinstance(cache, str | Path):
        path = Path(cache).expanduser()
    else:
        raise ConfigError(f"cache must be a bool, a path or a ResponseCache, not {cache!r}")
    path = path.resolve()
    with _SHARED_LOCK:
        if path not in _CACHES:
            _CACHES[path] = ResponseCache(path)
        return _CACHES[path]


def _base_backend(
    parsed: ModelSpec,
    *,
    base_url: str | None,
    api_key: str | None,
    progress: bool | None,
    max_concurrency: int | None,
) -> Backend:
    entry = BACKENDS[parsed.kind]
    options = OpenOptions(base_url=base_url, api_key=api_key, progress=progress,
                          max_concurrency=max_concurrency)  # fmt: skip
    if not entry.shared:
        return entry.open(parsed, options)
    with _SHARED_LOCK:
        shared = _SHARED.get(parsed.canonical)
        if shared is None:
            shared = entry.open(parsed, options)
            _SHARED[parsed.canonical] = shared
        return shared
