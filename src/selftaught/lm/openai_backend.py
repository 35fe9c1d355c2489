"""The ``openai:MODEL`` backend: any OpenAI-compatible chat-completions server.

Retries with exponential backoff are delegated to the official client (which honours
``Retry-After`` on 429 and retries 408/409/5xx and connection errors). ``n > 1`` is asked in one
request; when a server ignores or rejects ``n``, the rest are fetched one request per sample and
later calls go straight to single requests.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from selftaught.errors import InvalidLMRequest, ModelUnavailable
from selftaught.lm.types import Sample, SampleRequest, Usage, UsageMeter

DEFAULT_ENDPOINT = "https://api.openai.com/v1"
DEFAULT_MAX_RETRIES = 6
DEFAULT_TIMEOUT = 600.0
_PARALLEL_GROUPS = 8
_GATEWAY_FAILURES = (502, 503, 504)
# How servers that lack n>1 phrase it: "'n' must be 1", "n > 1 is not supported", "parameter n".
_N_PARAM = re.compile(r"(['\"`]n['\"`]|\bn\s*(>|must|should|=)|parameter\s+n\b)", re.I)


class OpenAIBackend:
    """Chat completions from an OpenAI-compatible server."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        import openai

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

    def generate(self, requests: Sequence[SampleRequest]) -> list[list[Sample]]:
        groups: dict[tuple[Any, ...], list[int]] = {}
        for pos, req in enumerate(requests):
            if req.n:
                groups.setdefault((req.messages, req.temperature, req.max_tokens), []).append(pos)
        jobs = [(requests[ps[0]], sum(requests[p].n for p in ps)) for ps in groups.values()]
        workers = max(1, min(_PARALLEL_GROUPS, len(jobs)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            answers = list(pool.map(lambda job: self._sample(*job), jobs))
        out: list[list[Sample]] = [[] for _ in requests]
        for positions, samples in zip(groups.values(), answers, strict=True):
            it = iter(samples)
            for p in positions:
                out[p] = [next(it) for _ in range(requests[p].n)]
        self._meter.record_call([s for row in out for s in row])
        return out

    def _sample(self, req: SampleRequest, n: int) -> list[Sample]:
        """``n`` samples of one conversation, in as few requests as the server allows."""
        samples: list[Sample] = []
        while len(samples) < n:
            want = n - len(samples) if self.n_supported else 1
            try:
                got = self._create(req, want)
            except self._openai.BadRequestError as exc:
                if want > 1 and _N_PARAM.search(str(exc)):
                    self._disable_n()
                    continue
                raise InvalidLMRequest(f"{self.spec} rejected the request: {_short(exc)}") from exc
            if want > 1 and len(got) < want:
                self._disable_n()  # the server ignored n; keep what it gave
            if not got:
                raise ModelUnavailable(f"{self.spec} returned no choices")
            samples.extend(got[: n - len(samples)])
        return samples

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


def _short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
