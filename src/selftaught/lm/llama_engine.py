"""Batched sampling on llama.cpp's low-level API: prefill each prompt once, decode many sequences.

Each sequence has its own seeded sampler chain, so its text depends only on its prompt, its seed
and the model, not on which other sequences share the batch (up to floating-point effects of
batch shape). The context uses a unified KV cache, so sequences that share a prompt share its
cells: the prompt is decoded once with all their sequence ids, or copied (by reference) from a
live sequence with the same prompt. Scheduling is continuous: up to ``width`` sequences decode
together, one token each per ``llama_decode``, and a finished sequence's slot goes straight to the
next waiting job.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from selftaught.errors import PromptTooLong

TOP_K = 40
TOP_P = 0.95
MIN_P = 0.05
_KV_MARGIN = 32  # cells kept free so that rounding inside llama.cpp never fills the cache

Prompt = tuple[int, ...]


class DecodeFailed(RuntimeError):
    """``llama_decode`` refused a batch (usually: no free KV cells)."""


@dataclass(frozen=True)
class SeqJob:
    """One sequence to sample: the prompt it continues, its seed and limits. Decoding halts once
    the text holds one of the ``stop`` strings; the text from it on is dropped."""

    prompt: Prompt
    seed: int
    temperature: float
    max_tokens: int
    stop: tuple[bytes, ...] = ()


@dataclass
class SeqResult:
    """What one sequence produced. ``prompt_tokens`` is set where a prefill was paid for."""

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
    pos: int  # position of ``last``, the token fed at the next step
    last: int
    pieces: list[bytes] = field(default_factory=list)
    done: bool = False
    stop: tuple[bytes, ...] = ()
    tail: bytes = b""  # the text's last bytes: enough to see a stop string arrive across pieces


class KvBudget:
    """Admission control: reserved KV cells for live prompts (once each) and live sequences."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.reserved = 0
        self.users: Counter[Prompt] = Counter()

    def cost(self, prompt: Prompt, limit: int) -> int:
        return limit + (0 if self.users[prompt] else len(prompt))

    def fits(self, prompt: Prompt, limit: int) -> bool:
        return self.reserved + self.cost(prompt, limit) <= self.capacity

    def admit(self, prompt: Prompt, limit: int) -> None:
        self.reserved += self.cost(prompt, limit)
        self.users[prompt] += 1

    def release(self, prompt: Prompt, limit: int) -> None:
        self.users[prompt] -= 1
        self.reserved -= limit
        if not self.users[prompt]:
            del self.users[prompt]
            self.reserved -= len(prompt)


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

    def fit_limit(self, prompt_len: int, max_tokens: int) -> int:
        """Tokens one sequence may generate after ``prompt_len`` prompt tokens in this context."""
        room = self.n_ctx - _KV_MARGIN - prompt_len
        if room < 1:
            raise PromptTooLong(
                f"the prompt has {prompt_len} tokens but the context holds {self.n_ctx}"
            )
        return min(max_tokens, room)

    def run(self, jobs: Sequence[SeqJob], width: int) -> list[SeqResult]:
        """Sample every job, at most ``width`` at a time. Raises DecodeFailed on a refused batch."""
        limits = [self.fit_limit(len(j.prompt), j.max_tokens) for j in jobs]
        width = max(1, min(width, self.n_seq_max))
        results = [SeqResult() for _ in jobs]
        # Jobs with the same prompt run back to back so that later ones can share its cells.
        first: dict[Prompt, int] = {}
        for i, j in enumerate(jobs):
            first.setdefault(j.prompt, i)
        pending = deque(sorted(range(len(jobs)), key=lambda i: first[jobs[i].prompt]))
        free_ids = list(range(width - 1, -1, -1))
        budget = KvBudget(self.n_ctx - _KV_MARGIN)
        live: list[_Live] = []
        start = time.perf_counter()
        self.lib.llama_memory_clear(self.memory, True)
        try:
            while pending or live:
                live += self._admit(jobs, limits, pending, free_ids, budget, live, results)
                self._step(live)
                for s in [s for s in live if s.done]:
                    self._finish(s, jobs[s.job_index], results[s.job_index])
                    budget.release(jobs[s.job_index].prompt, s.limit)
                    free_ids.append(s.seq_id)
                    live.remove(s)
        finally:
            for s in live:
                self.lib.llama_sampler_free(s.sampler)
            self.lib.llama_memory_clear(self.memory, True)
        share = (time.perf_counter() - start) / max(1, len(jobs))
        for r in results:
            r.seconds = share
        return results

    def _admit(
        self,
        jobs: Sequence[SeqJob],
        limits: list[int],
        pending: deque[int],
        free_ids: list[int],
        budget: KvBudget,
        live: list[_Live],
        results: list[SeqResult],
    ) -> list[_Live]:
        """Start waiting jobs while a slot and KV room are free; prefill or share their prompts."""
        donors = {jobs[s.job_index].prompt: s.seq_id for s in live}
        new: list[_Live] = []
        while pending and free_ids:
            i = pending[0]
            prompt = jobs[i].prompt
            if (live or new) and not budget.fits(prompt, limits[i]):
                break
            pending.popleft()
            budget.admit(prompt, limits[i])
            last = len(prompt) - 1
            sampler = self._sampler(jobs[i])
            seq = _Live(i, free_ids.pop(), sampler, limits[i], last, prompt[-1], stop=jobs[i].stop)
            new.append(seq)
        groups: dict[Prompt, list[_Live]] = {}
        for s in new:
            groups.setdefault(jobs[s.job_index].prompt, []).append(s)
        for prompt, seqs in groups.items():
            head = len(prompt) - 1  # the last prompt token is fed by the first decode step
            if prompt in donors:
                for s in seqs:
                    self.lib.llama_memory_seq_cp(self.memory, donors[prompt], s.seq_id, 0, head)
            else:
                if head:
                    self._prefill(prompt[:head], [s.seq_id for s in seqs])
                results[seqs[0].job_index].prompt_tokens = len(prompt)
        return new

    def _finish(self, seq: _Live, job: SeqJob, result: SeqResult) -> None:
        text = b"".join(seq.pieces)
        cut = min((i for i in map(text.find, job.stop) if i >= 0), default=len(text))
        result.text = text[:cut].decode("utf-8", errors="ignore")
        result.completion_tokens = len(seq.pieces)
        # Frees the sequence's own cells; shared prompt cells stay while others still use them.
        self.lib.llama_memory_seq_rm(self.memory, seq.seq_id, -1, -1)
        self.lib.llama_sampler_free(seq.sampler)

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

    def _prefill(self, tokens: Sequence[int], seq_ids: Sequence[int]) -> None:
        """Decode prompt tokens once for all ``seq_ids`` (no logits needed)."""
        b = self.batch
        for start in range(0, len(tokens), self.n_batch):
            chunk = tokens[start : start + self.n_batch]
            for j, tok in enumerate(chunk):
                b.token[j] = tok
                b.pos[j] = start + j
                b.n_seq_id[j] = len(seq_ids)
                for k, sid in enumerate(seq_ids):
                    b.seq_id[j][k] = sid
                b.logits[j] = 0
            b.n_tokens = len(chunk)
            self._decode()

    def _step(self, live: list[_Live]) -> None:
        """Feed each live sequence its last token and sample its next one, in one decode."""
        b = self.batch
        for j, s in enumerate(live):
            b.token[j] = s.last
            b.pos[j] = s.pos
            b.n_seq_id[j] = 1
            b.seq_id[j][0] = s.seq_id
            b.logits[j] = 1
        b.n_tokens = len(live)
        self._decode()
        for j, s in enumerate(live):
            token = self.lib.llama_sampler_sample(s.sampler, self.ctx, j)
            s.pos += 1
            if self.lib.llama_vocab_is_eog(self.vocab, token):
                s.done = True
                continue
            piece = self._piece(token)
            s.pieces.append(piece)
            s.last = token
            s.done = len(s.pieces) >= s.limit or self._stopped(s, piece)

    @staticmethod
    def _stopped(seq: _Live, piece: bytes) -> bool:
        if not seq.stop:
            return False
        seq.tail = (seq.tail + piece)[-(max(map(len, seq.stop)) + len(piece)) :]
        return any(s in seq.tail for s in seq.stop)

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
