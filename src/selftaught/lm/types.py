"""Value types shared by every language-model backend: requests, samples, usage, the protocol."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from selftaught.errors import InvalidLMRequest

#: One chat message: ``(role, content)`` with role ``system``, ``user`` or ``assistant``.
Message = tuple[str, str]
Messages = tuple[Message, ...]

DEFAULT_MAX_TOKENS = 1024
_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True)
class SampleRequest:
    """Ask for ``n`` samples of one conversation.

    Sample ``i`` of the request has the *sample index* ``first_index + i``; the index is part of the
    cache key, so asking again for the same index returns the same text, and a new index a new one.

    ``stop`` lists strings at which a reply may end early (the text from the first one on is
    dropped, `cut_at_stop`). It is not part of the cache key: a sample index draws the same tokens
    up to a stop whether or not decoding halts there, so a longer cached reply cut at the stop is
    the same reply. A stop only saves the decoding of text nobody reads.

    ``halt`` lists strings at which decoding may also halt, but the text keeps them (it runs up to
    the end of the first one, `cut_after_halt`): the caller cuts there itself and needs to see that
    it met one. Not part of the cache key, for the same reason. A backend that cannot keep them may
    ignore them and decode on.
    """

    messages: Messages
    n: int
    temperature: float
    max_tokens: int = DEFAULT_MAX_TOKENS
    first_index: int = 0
    stop: tuple[str, ...] = ()
    halt: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept lists of lists (e.g. decoded JSON) but store hashable tuples.
        object.__setattr__(self, "messages", normalize_messages(self.messages))
        if self.n < 0:
            raise InvalidLMRequest(f"n must be >= 0, got {self.n}")
        if not (math.isfinite(self.temperature) and 0.0 <= self.temperature <= 2.0):
            raise InvalidLMRequest(f"temperature must be in [0, 2], got {self.temperature}")
        if self.max_tokens < 1:
            raise InvalidLMRequest(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.first_index < 0:
            raise InvalidLMRequest(f"first_index must be >= 0, got {self.first_index}")
        object.__setattr__(self, "stop", tuple(self.stop))
        object.__setattr__(self, "halt", tuple(self.halt))
        if not all(isinstance(s, str) and s for s in self.stop + self.halt):
            raise InvalidLMRequest("stop and halt strings must be non-empty strings")

    @property
    def indices(self) -> range:
        """The sample indices this request asks for."""
        return range(self.first_index, self.first_index + self.n)


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """`text` up to (not including) the earliest occurrence of any stop string."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=len(text))
    return text[:cut]


def cut_after_halt(text: str, halt: Sequence[str]) -> str:
    """`text` up to the end of the first halt string to be complete in it (where decoding halts)."""
    ends = [i + len(s) for s in halt if s and (i := text.find(s)) >= 0]
    return text[: min(ends)] if ends else text


@dataclass(frozen=True)
class Sample:
    """One completion. ``cached`` is true when it came from the response cache or a recording."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cached: bool = False


@dataclass(frozen=True)
class Usage:
    """Accumulated use of one backend.

    ``calls`` counts ``generate`` calls, ``samples`` every sample returned. Tokens and seconds
    count only fresh work; ``cache_hits`` counts samples served from the cache or a recording.
    """

    calls: int = 0
    samples: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cache_hits: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            samples=self.samples + other.samples,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            seconds=self.seconds + other.seconds,
            cache_hits=self.cache_hits + other.cache_hits,
        )

    def to_dict(self) -> dict[str, float]:
        """Plain JSON-ready form."""
        return {
            "calls": self.calls,
            "samples": self.samples,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 3),
            "cache_hits": self.cache_hits,
        }


@dataclass
class UsageMeter:
    """Thread-safe accumulator behind a backend's ``usage`` property."""

    _total: Usage = field(default_factory=Usage)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record_call(self, samples: Sequence[Sample]) -> None:
        """Add one ``generate`` call and the samples it returned."""
        fresh = [s for s in samples if not s.cached]
        delta = Usage(
            calls=1,
            samples=len(samples),
            prompt_tokens=sum(s.prompt_tokens for s in fresh),
            completion_tokens=sum(s.completion_tokens for s in fresh),
            seconds=sum(s.seconds for s in fresh),
            cache_hits=len(samples) - len(fresh),
        )
        with self._lock:
            self._total = self._total + delta

    @property
    def total(self) -> Usage:
        with self._lock:
            return self._total


@runtime_checkable
class Backend(Protocol):
    """What every model (and every wrapper around one) provides."""

    spec: str

    @property
    def usage(self) -> Usage: ...

    def generate(self, requests: Sequence[SampleRequest]) -> list[list[Sample]]:
        """One list of ``request.n`` samples per request, in request order."""
        ...


#: Told ``(request position, sample position within that request, sample)`` the moment a sample
#: is drawn, before ``generate`` returns, so that a stop mid-call loses no finished sample.
SampleSink = Callable[[int, int, Sample], None]


def generate_streaming(
    backend: Backend, requests: Sequence[SampleRequest], on_sample: SampleSink | None
) -> list[list[Sample]]:
    """``backend.generate(requests)``, telling ``on_sample`` of each sample as it arrives.

    Backends that draw samples one by one (``streams_samples = True``: the ``openai:`` backend and
    the wrappers around it) call the sink as each sample arrives; for the others (a local model
    decodes a whole batch at once) the sink hears of every sample when the call returns.
    """
    if on_sample is None:
        return backend.generate(requests)
    if getattr(backend, "streams_samples", False):
        return backend.generate(requests, on_sample=on_sample)  # type: ignore[call-arg]
    results = backend.generate(requests)
    for pos, row in enumerate(results):
        for j, sample in enumerate(row):
            on_sample(pos, j, sample)
    return results


def normalize_messages(messages: object) -> Messages:
    """Validate a conversation and return it as a tuple of ``(role, content)`` tuples."""
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise InvalidLMRequest("messages must be a sequence of (role, content) pairs")
    out: list[Message] = []
    for item in messages:
        if isinstance(item, dict):
            item = (item.get("role"), item.get("content"))
        if not (isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2):
            raise InvalidLMRequest(f"each message must be a (role, content) pair, got {item!r:.80}")
        role, content = item
        if role not in _ROLES:
            roles = sorted(_ROLES)
            raise InvalidLMRequest(f"message role must be one of {roles}, not {role!r:.30}")
        if not isinstance(content, str):
            kind = type(content).__name__
            raise InvalidLMRequest(f"message content must be a string, not {kind}")
        out.append((role, content))
    if not out:
        raise InvalidLMRequest("messages must not be empty")
    return tuple(out)


def sample_key(
    spec: str, messages: Messages, temperature: float, max_tokens: int, index: int
) -> str:
    """The stable identity of one sample: a SHA-256 over everything that determines it.

    ``spec`` may be empty, which gives the model-independent key that replay files use.
    """
    payload = json.dumps(
        [spec, [list(m) for m in messages], round(float(temperature), 6), max_tokens, index],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def seed_for(key: str) -> int:
    """A 31-bit sampler seed derived from a sample key, so a key always yields the same text."""
    return int(key[:8], 16) & 0x7FFFFFFF


def describe_messages(messages: Messages, limit: int = 120) -> str:
    """A short one-line description of a conversation for error messages."""
    last_user = next((c for r, c in reversed(messages) if r == "user"), messages[-1][1])
    flat = " ".join(last_user.split())
    if len(flat) > limit:
        flat = flat[: limit - 3] + "..."
    return f"{len(messages)} message(s), last user message: {flat!r}"
