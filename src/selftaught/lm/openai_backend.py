"""The ``openai:MODEL`` backend: any OpenAI-compatible chat-completions server.

Retries are the official client's (``max_retries``): it retries connection errors, 408, 409, 429
and 5xx with exponential backoff (0.5 s doubling to 8 s) and jitter, and waits what a
``Retry-After``/``retry-after-ms`` header asks (within the client's limit) instead. ``n > 1`` is
asked in one request; when a server ignores or rejects ``n`` (``llama_cpp.server`` ignores it),
the rest are fetched one request per sample, up to ``max_concurrency`` at once, and later calls go
straight to single requests. Each sample is handed on the moment its request returns.
"""

from __future__ import annotations

import os
import queue
import re
import threading
import time
from collections.abc import Generator, Sequence
from contextlib import closing
from typing import Any

from selftaught.errors import ConfigError, InvalidLMRequest, ModelUnavailable
from selftaught.lm.types import Sample, SampleRequest, SampleSink, Usage, UsageMeter

DEFAULT_ENDPOINT = "https://api.openai.com/v1"
DEFAULT_MAX_RETRIES = 6
DEFAULT_TIMEOUT = 600.0
#: Requests in flight at once per backend (`--max-concurrency`): enough to fill a small server's
#: parallel slots, few enough not to trip a hosted API's rate limit at once.
DEFAULT_MAX_CONCURRENCY = 4
MAX_CONCURRENCY_ENV = "SELFTAUGHT_MAX_CONCURRENCY"
_POLL_SECONDS = 0.2
_GATEWAY_FAILURES = (502, 503, 504)
# How servers that lack n>1 phrase it: "'n' must be 1", "n > 1 is not supported", "parameter n".
_N_PARAM = re.compile(r"(['\"`]n['\"`]|\bn\s*(>|must|should|=)|parameter\s+n\b)", re.I)


class _NotSent(Exception):
    """A request dropped because the call had already failed."""


class OpenAIBackend:
    """Chat completions from an OpenAI-compatible server."""

    streams_samples = True

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float = DEFAULT_TIMEOUT,
        max_concurrency: int | None = None,
    ) -> None:
        import openai

        self.max_concurrency = resolve_max_concurrency(max_concurrency)
        self.model = model
        self.spec = f"openai:{model}"
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        #: Cached answers are keyed by the server too: another server is another model.
        self.cache_scope = f"{self.spec}@{self.base_url or DEFAULT_ENDPOINT}"
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if not self.base_url:
                raise ModelUnavailable(
                    "openai: needs OPENAI_API_KEY, or --base-url/OPENAI_BASE_URL for a local server"
                )
            key = "not-needed"  # local servers (vLLM, llama.cpp, Ollama) accept any key
        self._openai = openai
        self._client = openai.OpenAI(
            api_key=key, base_url=self.base_url, max_retries=max_retries, timeout=timeout
        )
        self.n_supported = True
        self._meter = UsageMeter()
        self._flag_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.max_concurrency)

    @property
    def usage(self) -> Usage:
        return self._meter.total

    @property
    def endpoint(self) -> str:
        """The server's address, as requests go to it."""
        return str(self._client.base_url).rstrip("/")

    def probe(self) -> None:
        """Ask the server once (no retries) whether it answers; ModelUnavailable naming its URL
        when nothing answers in time or it refuses the key. Any other answer, even an error
        status, shows that a server is there."""
        oa = self._openai
        try:
            self._client.with_options(max_retries=0).models.list()
        except (oa.APIConnectionError, oa.APITimeoutError) as exc:
            raise ModelUnavailable(
                f"no OpenAI-compatible server answers at {self.endpoint} ({_short(exc)}); "
                "start it or pass --base-url / OPENAI_BASE_URL"
            ) from None
        except oa.AuthenticationError:
            raise ModelUnavailable(
                f"{self.spec} at {self.endpoint}: authentication failed; check OPENAI_API_KEY"
            ) from None
        except oa.APIStatusError as exc:
            if exc.status_code in _GATEWAY_FAILURES:  # a proxy says nothing answers behind it
                raise ModelUnavailable(
                    f"no OpenAI-compatible server answers at {self.endpoint} "
                    f"(HTTP {exc.status_code}); start it or pass --base-url / OPENAI_BASE_URL"
                ) from None

    def generate(
        self, requests: Sequence[SampleRequest], on_sample: SampleSink | None = None
    ) -> list[list[Sample]]:
        """Samples of every request; ``on_sample`` hears of each one as it arrives (in the calling
        thread). Identical conversations are asked together, with ``n`` while the server honours
        it, else one request per sample, up to ``max_concurrency`` requests at once."""
        groups: dict[tuple[Any, ...], list[int]] = {}
        for pos, req in enumerate(requests):
            if req.n:
                groups.setdefault((req.messages, req.temperature, req.max_tokens), []).append(pos)
        # Where the k-th sample drawn for a group goes: (request position, sample position).
        slots = [[(p, j) for p in ps for j in range(requests[p].n)] for ps in groups.values()]
        firsts = [requests[ps[0]] for ps in groups.values()]
        out: list[list[Sample | None]] = [[None] * req.n for req in requests]
        drawn = [0] * len(slots)
        while any(d < len(s) for d, s in zip(drawn, slots, strict=True)):
            error: Exception | None = None
            stop = threading.Event()
            # closing(): an interrupt ends the round at once (requests not yet sent are dropped)
            with closing(self._fan_out(firsts, self._round(slots, drawn), stop)) as answers:
                for g, want, got in answers:  # in completion order
                    try:
                        self._check(got, want)
                    except Exception as exc:
                        # Send nothing more, but keep what is already in flight: a sample the
                        # server is drawing now is paid for, so it is handed on all the same.
                        error = error or exc
                        stop.set()
                        continue
                    if isinstance(got, BaseException):
                        continue  # n refused, or not sent after an error
                    for sample in got[: len(slots[g]) - drawn[g]]:
                        pos, j = slots[g][drawn[g]]
                        drawn[g] += 1
                        out[pos][j] = sample
                        if on_sample is not None:
                            on_sample(pos, j, sample)
            if error is not None:
                raise error
        done = [[s for s in row if s is not None] for row in out]
        self._meter.record_call([s for row in done for s in row])
        return done

    def _round(self, slots: list[list[Any]], drawn: list[int]) -> list[tuple[int, int]]:
        """The requests of one round, as (group, samples wanted): one per group while ``n`` is
        honoured, else one per missing sample."""
        tasks: list[tuple[int, int]] = []
        for g, (group_slots, done) in enumerate(zip(slots, drawn, strict=True)):
            missing = len(group_slots) - done
            if missing <= 0:
                continue
            if self.n_supported:
                tasks.append((g, missing))
            else:
                tasks.extend((g, 1) for _ in range(missing))
        return tasks

    def _fan_out(
        self, firsts: list[SampleRequest], tasks: list[tuple[int, int]], stop: threading.Event
    ) -> Generator[tuple[int, int, list[Sample] | BaseException], None, None]:
        """Run the tasks on daemon threads, at most ``max_concurrency`` requests in flight over
        every call of this backend; yield ``(group, wanted, samples or error)`` as each ends.
        Once ``stop`` is set, tasks not yet sent end as ``_NotSent``. Daemon threads, so an
        interrupted run exits without waiting for requests in flight."""
        results: queue.Queue[tuple[int, int, list[Sample] | BaseException]] = queue.Queue()

        def work(g: int, want: int) -> None:
            with self._slots:
                if stop.is_set():
                    results.put((g, want, _NotSent()))
                    return
                try:
                    got: list[Sample] | BaseException = self._create(firsts[g], want)
                except BaseException as exc:  # handed to the calling thread
                    got = exc
            results.put((g, want, got))

        for g, want in tasks:
            threading.Thread(target=work, args=(g, want), daemon=True).start()
        try:
            for _ in tasks:
                while True:
                    try:
                        yield results.get(timeout=_POLL_SECONDS)
                        break
                    except queue.Empty:
                        continue
        finally:
            stop.set()  # an interrupt: requests not yet sent are not sent

    def _check(self, got: list[Sample] | BaseException, want: int) -> None:
        """Raise what ends the call; note a server that ignores or refuses ``n``."""
        if isinstance(got, _NotSent):
            return
        if isinstance(got, BaseException):
            self._raise_unless_n_refused(got, want)
            return
        if want > 1 and len(got) < want:
            self._disable_n()  # the server ignored n; keep what it gave
        if not got:
            raise ModelUnavailable(f"{self.spec} returned no choices")

    def _raise_unless_n_refused(self, exc: BaseException, want: int) -> None:
        """A server that refuses ``n > 1`` gets single requests from now on; other errors end
        the call."""
        if isinstance(exc, self._openai.BadRequestError):
            if want > 1 and _N_PARAM.search(str(exc)):
                self._disable_n()
                return
            raise InvalidLMRequest(f"{self.spec} rejected the request: {_short(exc)}") from exc
        raise exc

    def _disable_n(self) -> None:
        with self._flag_lock:
            self.n_supported = False

    def _create(self, req: SampleRequest, n: int) -> list[Sample]:
        oa = self._openai
        start = time.perf_counter()
        try:
            resp = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": r, "content": c} for r, c in req.messages],  # type: ignore[misc]
                n=n,
                temperature=req.temperature,
                max_tokens=req.max_tokens,
                # The API takes at most four stops and drops the one it meets from the text, so
                # halt strings (which the text must keep) are not sent: the reply decodes on.
                stop=list(req.stop[:4]) or None,
            )
        except oa.AuthenticationError as exc:
            msg = f"{self.spec}: authentication failed; check OPENAI_API_KEY"
            raise ModelUnavailable(msg) from exc
        except oa.NotFoundError as exc:
            msg = f"{self.spec}: model or endpoint not found: {_short(exc)}"
            raise ModelUnavailable(msg) from exc
        except (oa.APIConnectionError, oa.RateLimitError, oa.InternalServerError) as exc:
            raise ModelUnavailable(
                f"{self.spec} at {self._client.base_url} failed after retries: {_short(exc)}"
            ) from exc
        except oa.APIStatusError as exc:
            if isinstance(exc, oa.BadRequestError):
                raise
            raise ModelUnavailable(f"{self.spec}: server error: {_short(exc)}") from exc
        seconds = time.perf_counter() - start
        choices = sorted(resp.choices, key=lambda c: c.index)
        if not choices:
            return []
        usage = resp.usage
        ptok = int(getattr(usage, "prompt_tokens", 0) or 0)
        ctok = int(getattr(usage, "completion_tokens", 0) or 0)
        k = len(choices)
        return [
            Sample(
                text=c.message.content or "",
                prompt_tokens=ptok if i == 0 else 0,  # the prompt is paid once per request
                completion_tokens=ctok // k + (1 if i < ctok % k else 0),
                seconds=seconds / k,
            )
            for i, c in enumerate(choices)
        ]


def resolve_max_concurrency(value: int | None) -> int:
    """``value``, else ``$SELFTAUGHT_MAX_CONCURRENCY``, else the default; ConfigError below 1."""
    if value is None:
        text = os.environ.get(MAX_CONCURRENCY_ENV, "").strip()
        try:
            value = int(text) if text else DEFAULT_MAX_CONCURRENCY
        except ValueError:
            raise ConfigError(f"{MAX_CONCURRENCY_ENV} must be an integer, not {text!r}") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"max_concurrency must be an integer >= 1, got {value!r}")
    return value


def _short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
