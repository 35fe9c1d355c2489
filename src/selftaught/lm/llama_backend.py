"""In-process GGUF models through llama-cpp-python (the ``embedded`` and ``gguf:`` backends).

The prompt is rendered with the chat template stored in the GGUF. Every sample gets a sampler
seed derived from its cache key, so the same key gives the same text even without the cache when
it is decoded in the same company (batch shape changes floating-point rounding, which can change
a sampled token; the cache makes repeats exact).
``generate`` is serialised by a lock: one llama.cpp context is not safe for concurrent use, and
callers (the search loop) use several threads.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from selftaught.errors import ConfigError, ModelUnavailable
from selftaught.lm.llama_engine import DecodeFailed, EngineConfig, LlamaEngine, SeqJob, SeqResult
from selftaught.lm.lookup import DEFAULT_LOOKUP, LookupConfig
from selftaught.lm.types import (
    Messages,
    Sample,
    SampleRequest,
    Usage,
    UsageMeter,
    sample_key,
    seed_for,
)

DEFAULT_N_CTX = 12288
DEFAULT_N_SEQ_MAX = 8
_CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def import_llama_cpp() -> Any:
    """Import llama_cpp quietly, or raise ModelUnavailable naming the fix."""
    try:
        import llama_cpp
        from llama_cpp import _logger
    except (ImportError, OSError) as exc:  # OSError: the compiled library failed to load
        raise ModelUnavailable(
            "llama-cpp-python is not installed; install it with "
            "`pip install 'selftaught[embedded]'` (or run `make setup`)"
        ) from exc
    _logger.set_verbose(False)  # llama.cpp logs every tensor at load time otherwise
    return llama_cpp


def options_from_env() -> dict[str, Any]:
    """Overrides for local models: ``SELFTAUGHT_N_THREADS`` (a fixed count; unset, the count
    follows the load), ``SELFTAUGHT_N_CTX``, ``SELFTAUGHT_N_SEQ_MAX`` (positive integers)."""
    out: dict[str, Any] = {}
    for env, key in (
        ("SELFTAUGHT_N_THREADS", "n_threads"),
        ("SELFTAUGHT_N_CTX", "n_ctx"),
        ("SELFTAUGHT_N_SEQ_MAX", "n_seq_max"),
    ):
        raw = os.environ.get(env, "").strip()
        if not raw:
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"{env} must be a positive integer, got {raw!r}")
        out[key] = int(raw)
    return out


class LlamaBackend:
    """A local GGUF model with batched, seeded sampling.

    ``n_threads`` None follows the load (see ``lm.threads``); ``lookup`` None turns speculation
    off; ``prefix_slots`` 0 turns off keeping prompts in the KV cache between calls.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        spec: str,
        n_ctx: int = DEFAULT_N_CTX,
        n_seq_max: int = DEFAULT_N_SEQ_MAX,
        n_threads: int | None = None,
        batched: bool = True,
        lookup: LookupConfig | None = DEFAULT_LOOKUP,
        prefix_slots: int = 4,
    ) -> None:
        lib = import_llama_cpp()
        from llama_cpp import _internals
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.spec = spec
        self.path = Path(path)
        self.batched = batched
        self._lock = threading.Lock()
        self._meter = UsageMeter()
        self._warned = False
        lib.llama_backend_init()
        try:
            self._model = _internals.LlamaModel(
                path_model=str(self.path), params=lib.llama_model_default_params(), verbose=False
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelUnavailable(f"cannot load GGUF model {self.path}: {exc}") from exc
        meta = self._model.metadata()
        eos, bos = self._model.token_eos(), self._model.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=meta.get("tokenizer.chat_template") or _CHATML,
            eos_token=self._model.token_get_text(eos) if eos != -1 else "",
            bos_token=self._model.token_get_text(bos) if bos != -1 else "",
        )
        n_ctx = min(n_ctx, self._model.n_ctx_train() or n_ctx)
        config = EngineConfig(
            n_ctx=n_ctx,
            n_seq_max=n_seq_max,
            n_threads=n_threads,
            lookup=lookup,
            prefix_slots=prefix_slots,
        )
        self.engine = LlamaEngine(lib, self._model.model, self._model.vocab, config)

    @property
    def usage(self) -> Usage:
        return self._meter.total

    def close(self) -> None:
        """Free the llama.cpp context and model."""
        with self._lock:
            self.engine.close()
            self._model.close()

    def prompt_tokens(self, messages: Messages) -> tuple[int, ...]:
        """The token ids of a conversation rendered with the model's chat template.

        A conversation that ends with an assistant message is continued: the rest is rendered up
        to the assistant's turn and that message's text follows, left open (a reply prefix).
        """
        opened = messages[-1][1] if messages and messages[-1][0] == "assistant" else None
        turns = messages[:-1] if opened is not None else messages
        chat: list[Any] = [{"role": r, "content": c} for r, c in turns]
        rendered = self._formatter(messages=chat).prompt + (opened or "")
        return tuple(self._model.tokenize(rendered.encode("utf-8"), add_bos=True, special=True))

    def generate(self, requests: Sequence[SampleRequest]) -> list[list[Sample]]:
        with self._lock:
            out = self._generate(requests)
        self._meter.record_call([s for row in out for s in row])
        return out

    def _generate(self, requests: Sequence[SampleRequest]) -> list[list[Sample]]:
        jobs: list[SeqJob] = []
        where: list[list[int]] = []  # per request, per sample: index into jobs
        seen: dict[tuple[Any, ...], int] = {}
        prompts: dict[Messages, tuple[int, ...]] = {}
        for req in requests:
            if req.messages not in prompts:
                prompts[req.messages] = self.prompt_tokens(req.messages)
            row = []
            for index in req.indices:
                # At temperature 0 every index gives the same text: decode it once. Requests
                # ending at other strings are decoded apart: each reply must end at its own.
                ident: tuple[Any, ...] = (
                    req.messages,
                    req.temperature,
                    req.max_tokens,
                    req.stop,
                    req.halt,
                )
                ident += (index,) if req.temperature > 0 else ()
                if ident not in seen:
                    key = sample_key(
                        self.spec, req.messages, req.temperature, req.max_tokens, index
                    )
                    seen[ident] = len(jobs)
                    jobs.append(
                        SeqJob(
                            prompts[req.messages],
                            seed_for(key),
                            req.temperature,
                            req.max_tokens,
                            tuple(s.encode() for s in req.stop),
                            tuple(s.encode() for s in req.halt),
                        )
                    )
                row.append(seen[ident])
            where.append(row)
        results = self._run(jobs)
        used: set[int] = set()
        out = []
        for row in where:
            samples = []
            for j in row:
                samples.append(_to_sample(results[j], first=j not in used))
                used.add(j)
            out.append(samples)
        return out

    def _run(self, jobs: list[SeqJob]) -> list[SeqResult]:
        if self.batched:
            try:
                return self.engine.run(jobs, self.engine.n_seq_max)
            except DecodeFailed as exc:
                self.batched = False  # sticky: a context that refused a batch will again
                self._warn_fallback(exc)
        try:
            return self.engine.run(jobs, 1)
        except DecodeFailed as exc:
            raise ModelUnavailable(f"{self.spec}: generation failed: {exc}") from exc

    def _warn_fallback(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            msg = f"{self.spec}: batched decoding failed ({exc}); decoding sequentially instead"
            print(f"warning: {msg}", file=sys.stderr)


def _to_sample(res: SeqResult, *, first: bool) -> Sample:
    # A temperature-0 duplicate cost nothing beyond the first copy.
    if first:
        return Sample(res.text, res.prompt_tokens, res.completion_tokens, res.seconds)
    return Sample(res.text, 0, 0, 0.0)
