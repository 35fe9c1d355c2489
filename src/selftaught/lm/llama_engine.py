"""Batched sampling on llama.cpp's low-level API: prefill each prompt once, decode many sequences.

Each sequence has its own seeded sampler chain, so its text depends only on its prompt, its seed
and the model, not on which other sequences share the batch (up to floating-point effects of
batch shape). Sequences that share a prompt share its KV cells: the prompt is decoded once with
all their sequence ids (the context uses a unified KV cache), then every step decodes one token
for each live sequence in a single ``llama_decode``.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from selftaught.errors import PromptTooLong

TOP_K = 40
TOP_P = 0.95
MIN_P = 0.05
_KV_MARGIN = 16  # cells kept free so that rounding inside llama.cpp never fills the cache


class DecodeFailed(RuntimeError):
    """``llama_decode`` refused a batch (usually: no free KV cells)."""


@dataclass(frozen=True)
class SeqJob:
    """One sequence to sample: the prompt it continues, its seed and limits."""

    prompt: tuple[int, ...]
    seed: int
    temperature: float
    max_tokens: int


@dataclass
class SeqResult:
    """What one sequence produced. ``prompt_tokens`` is set only where the prompt was paid."""

    text: str = ""
    completion_tokens: int = 0
    prompt_tokens: int = 0
    seconds: float = 0.0


@dataclass
class _Live:
    job_index: int
    seq_id: int
    sampler: Any
    limit: int
    pos: int
    last: int = -1
    pieces: list[bytes] = field(default_factory=list)
    done: bool = False


class LlamaEngine:
    """Owns one llama.cpp context (unified KV) and a batch buffer for a loaded model."""

    def __init__(
        self,
        llama_cpp: Any,
        model: Any,
        vocab: Any,
        *,
        n_ctx: int,
        n_seq_max: int,
        n_batch: int = 512,
        n_threads: int | None = None,
    ) -> None:
        self.lib = llama_cpp
        self.vocab = vocab
        self.n_seq_max = n_seq_max
        self.n_batch = n_batch
        threads = n_threads or max(1, os.cpu_count() or 1)
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = n_seq_max
        params.n_threads = threads
        params.n_threads_batch = threads
        params.kv_unified = True
        params.no_perf = True
        self.ctx = llama_cpp.llama_init_from_model(model, params)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not create a context")
        self.n_ctx = int(llama_cpp.llama_n_ctx(self.ctx))
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.batch = llama_cpp.llama_batch_init(max(n_batch, n_seq_max), 0, n_seq_max)

    def close(self) -> None:
        if getattr(self, "ctx", None):
            self.lib.llama_batch_free(self.batch)
            self.lib.llama_free(self.ctx)
            self.ctx = None

    # -- planning ---------------------------------------------------------------------------

    def fit_limit(self, prompt_len: int, max_tokens: int) -> int:
        """Tokens one sequence may generate after ``prompt_len`` prompt tokens in this context."""
        room = self.n_ctx - _KV_MARGIN - prompt_len
        if room < 1:
            raise PromptTooLong(
                f"the prompt has {prompt_len} tokens but the context holds {self.n_ctx}"
            )
        return min(max_tokens, room)

    def waves(self, jobs: Sequence[SeqJob], width: int) -> list[list[int]]:
        """Split job indices into groups of at most ``width`` that fit the KV cache together."""
        out: list[list[int]] = []
        wave: list[int] = []
        prompts: set[tuple[int, ...]] = set()
        used = 0
        for i, job in enumerate(jobs):
            cost = self.fit_limit(len(job.prompt), job.max_tokens)
            extra = cost + (0 if job.prompt in prompts else len(job.prompt))
            if wave and (len(wave) >= width or used + extra > self.n_ctx - _KV_MARGIN):
                out.append(wave)
                wave, prompts, used = [], set(), 0
                extra = cost + len(job.prompt)
            wave.append(i)
            prompts.add(job.prompt)
            used += extra
        if wave:
            out.append(wave)
        return out

    # -- running ----------------------------------------------------------------------------

    def run_wave(self, jobs: Sequence[SeqJob], indices: Sequence[int]) -> dict[int, SeqResult]:
        """Sample the given jobs together. Raises DecodeFailed if llama.cpp refuses a batch."""
        lib = self.lib
        lib.llama_memory_clear(self.memory, True)
        live: list[_Live] = []
        results = {i: SeqResult() for i in indices}
        by_prompt: dict[tuple[int, ...], list[int]] = {}
        for i in indices:
            by_prompt.setdefault(jobs[i].prompt, []).append(i)
        start = time.perf_counter()
        try:
            for slot, i in enumerate(indices):
                job = jobs[i]
                live.append(
                    _Live(
                        i,
                        slot,
                        self._sampler(job),
                        self.fit_limit(len(job.prompt), job.max_tokens),
                        len(job.prompt),
                    )
                )
            slot_of = {s.job_index: s for s in live}
            for prompt, members in by_prompt.items():
                seqs = [slot_of[i] for i in members]
                last_index = self._prefill(prompt, [s.seq_id for s in seqs])
                results[members[0]].prompt_tokens = len(prompt)
                for s in seqs:
                    self._take(s, lib.llama_sampler_sample(s.sampler, self.ctx, last_index))
            self._decode_loop(live)
        finally:
            for s in live:
                lib.llama_sampler_free(s.sampler)
            lib.llama_memory_clear(self.memory, True)
        elapsed = time.perf_counter() - start
        for s in live:
            res = results[s.job_index]
            res.text = b"".join(s.pieces).decode("utf-8", errors="ignore")
            res.completion_tokens = len(s.pieces)
            res.seconds = elapsed / len(live)
        return results

    def _sampler(self, job: SeqJob) -> Any:
        lib = self.lib
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        if job.temperature <= 0.0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
            return chain
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_k(TOP_K))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_p(TOP_P, 1))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_min_p(MIN_P, 1))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(job.temperature))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(job.seed))
        return chain

    def _prefill(self, prompt: Sequence[int], seq_ids: Sequence[int]) -> int:
        """Decode a prompt once for all ``seq_ids``; return the batch index of its last logits."""
        b = self.batch
        for start in range(0, len(prompt), self.n_batch):
            chunk = prompt[start : start + self.n_batch]
            for j, tok in enumerate(chunk):
                b.token[j] = tok
                b.pos[j] = start + j
                b.n_seq_id[j] = len(seq_ids)
                for k, sid in enumerate(seq_ids):
                    b.seq_id[j][k] = sid
                b.logits[j] = 0
            b.logits[len(chunk) - 1] = 1
            b.n_tokens = len(chunk)
            self._decode()
        return len(prompt[(len(prompt) - 1) // self.n_batch * self.n_batch :]) - 1

    def _take(self, seq: _Live, token: int) -> None:
        """Accept a sampled token for a sequence, or finish it."""
        if self.lib.llama_vocab_is_eog(self.vocab, token):
            seq.done = True
            return
        seq.pieces.append(self._piece(token))
        seq.last = token
        if len(seq.pieces) >= seq.limit:
            seq.done = True

    def _decode_loop(self, live: list[_Live]) -> None:
        lib, b = self.lib, self.batch
        while True:
            active = [s for s in live if not s.done]
            if not active:
                return
            for j, s in enumerate(active):
                b.token[j] = s.last
                b.pos[j] = s.pos
                b.n_seq_id[j] = 1
                b.seq_id[j][0] = s.seq_id
                b.logits[j] = 1
                s.pos += 1
            b.n_tokens = len(active)
            self._decode()
            for j, s in enumerate(active):
                self._take(s, lib.llama_sampler_sample(s.sampler, self.ctx, j))
                if s.done:  # free its cells (shared prompt cells stay while others use them)
                    lib.llama_memory_seq_rm(self.memory, s.seq_id, -1, -1)

    def _decode(self) -> None:
        rc = self.lib.llama_decode(self.ctx, self.batch)
        if rc != 0:
            raise DecodeFailed(f"llama_decode returned {rc}")

    def _piece(self, token: int) -> bytes:
        buf = ctypes.create_string_buffer(256)
        n = self.lib.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self.lib.llama_token_to_piece(self.vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]
