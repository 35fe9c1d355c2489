"""Batched sampling on llama.cpp's low-level API: prefill each prompt once, decode many sequences.

Each sequence has its own seeded sampler chain, so its text depends only on its prompt, its seed
and the model, not on which other sequences share the batch (up to floating-point effects of
batch shape). The context uses a unified KV cache, so sequences that share a prompt share its
cells: the prompt is decoded once with all their sequence ids, or copied (by reference) from a
live sequence or from a prompt kept from an earlier call (``PrefixStore``) that starts the same
way. Scheduling is continuous: up to ``width`` sequences decode together, and a finished
sequence's slot goes straight to the next waiting job.

Speculation (``lookup``): each step feeds a sequence its last token plus tokens drafted by prompt
lookup, samples at every one of those positions with the sequence's own sampler, and keeps the
drafted tokens as long as they equal what was sampled. Every kept token was drawn from the
model's distribution given the tokens before it, and the sampler draws once per kept token, as
without speculation: the same seed gives the same text (again up to batch-shape rounding).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from selftaught.errors import PromptTooLong
from selftaught.lm.draft_policy import DecodeCosts, plan_drafts
from selftaught.lm.kv_plan import KvBudget, PrefixStore, Prompt, common_prefix
from selftaught.lm.llama_sampling import make_sampler, stop_seen, token_piece
from selftaught.lm.lookup import DEFAULT_LOOKUP, Drafter, LookupConfig, Ngram, index_ngrams
from selftaught.lm.threads import ThreadGovernor, available_cpus
from selftaught.lm.types import cut_after_halt, cut_at_stop

_KV_MARGIN = 32  # cells kept free so that rounding inside llama.cpp never fills the cache
_MIN_KEPT_PREFIX = 32  # shorter shared prefixes are not worth a kept entry


class DecodeFailed(RuntimeError):
    """``llama_decode`` refused a batch (usually: no free KV cells)."""


@dataclass(frozen=True)
class EngineConfig:
    """Engine options. ``n_threads`` None: follow the load (``ThreadGovernor``); ``lookup`` None:
    no speculation; ``prefix_slots`` prompts are kept in the KV cache between calls, using up to
    ``prefix_share`` of the context."""

    n_ctx: int
    n_seq_max: int
    n_batch: int = 512
    n_threads: int | None = None
    lookup: LookupConfig | None = DEFAULT_LOOKUP
    prefix_slots: int = 4
    prefix_share: float = 0.25


@dataclass(frozen=True)
class SeqJob:
    """One sequence to sample: the prompt it continues, its seed and limits. Decoding halts once
    the text holds one of the ``stop`` strings, whose text from it on is dropped, or one of the
    ``halt`` strings, which the text keeps (see `SampleRequest`)."""

    prompt: Prompt
    seed: int
    temperature: float
    max_tokens: int
    stop: tuple[bytes, ...] = ()
    halt: tuple[bytes, ...] = ()


@dataclass
class SeqResult:
    """What one sequence produced. ``prompt_tokens`` counts the prompt tokens decoded for it."""

    text: str = ""
    completion_tokens: int = 0
    prompt_tokens: int = 0
    seconds: float = 0.0
    drafted: int = 0  # tokens proposed by lookup
    accepted: int = 0  # of which the model sampled the same


@dataclass
class _Live:
    job_index: int
    seq_id: int
    sampler: Any
    limit: int
    pos: int  # position of ``last``, the token fed at the next step
    last: int
    drafter: Drafter | None
    pieces: list[bytes] = field(default_factory=list)
    draft: list[int] = field(default_factory=list)
    drafted: int = 0
    accepted: int = 0
    done: bool = False
    stop: tuple[bytes, ...] = ()
    tail: bytes = b""  # the text's last bytes: enough to see a stop string arrive across pieces


class LlamaEngine:
    """Owns one llama.cpp context (unified KV) and a batch buffer for a loaded model."""

    def __init__(self, llama_cpp: Any, model: Any, vocab: Any, config: EngineConfig) -> None:
        self.lib = llama_cpp
        self.vocab = vocab
        self.config = config
        self.n_seq_max = config.n_seq_max
        self.n_batch = config.n_batch
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = config.n_ctx
        params.n_batch = config.n_batch
        params.n_ubatch = config.n_batch
        params.n_seq_max = config.n_seq_max + config.prefix_slots
        params.kv_unified = True
        params.no_perf = True
        self.ctx = llama_cpp.llama_init_from_model(model, params)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not create a context")
        self.n_ctx = int(llama_cpp.llama_n_ctx(self.ctx))
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        draft = config.lookup.max_step_draft if config.lookup else 0
        size = max(config.n_batch, config.n_seq_max + draft)
        self.batch = llama_cpp.llama_batch_init(size, 0, config.n_seq_max)
        self.store = PrefixStore(
            range(config.n_seq_max, config.n_seq_max + config.prefix_slots),
            int(self.n_ctx * config.prefix_share),
        )
        self.threads = ThreadGovernor(
            lambda n: llama_cpp.llama_set_n_threads(self.ctx, n, n),
            available_cpus(),
            fixed=config.n_threads,
        )
        self._indexes: dict[Prompt, dict[Ngram, int]] = {}
        self.costs = DecodeCosts()  # of this context's decode steps, for the draft policy

    def close(self) -> None:
        if getattr(self, "ctx", None):
            self.lib.llama_batch_free(self.batch)
            self.lib.llama_free(self.ctx)
            self.ctx = None

    def forget_prefixes(self) -> None:
        """Drop the prompts kept from earlier calls (the next call prefills from scratch)."""
        for _ in range(len(self.store.entries)):
            self.lib.llama_memory_seq_rm(self.memory, self.store.evict_oldest(), -1, -1)

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
        budget = self._budget(jobs, limits)
        live: list[_Live] = []
        self.threads.resume()
        start = time.perf_counter()
        ok = False
        try:
            while pending or live:
                live += self._admit(jobs, limits, pending, free_ids, budget, live, results)
                self._step(live)
                for s in [s for s in live if s.done]:
                    self._finish(s, jobs[s.job_index], results[s.job_index])
                    budget.release(jobs[s.job_index].prompt, s.limit)
                    free_ids.append(s.seq_id)
                    live.remove(s)
            ok = True
        finally:
            self._cleanup(live, keep_store=ok)
        share = (time.perf_counter() - start) / max(1, len(jobs))
        for r in results:
            r.seconds = share
        return results

    def _budget(self, jobs: Sequence[SeqJob], limits: list[int]) -> KvBudget:
        """A budget for this run, net of the kept prompts; evicts them if the first job needs it."""
        capacity = self.n_ctx - _KV_MARGIN
        need = len(jobs[0].prompt) + limits[0] if jobs else 0
        while self.store.entries and capacity - self.store.tokens < need:  # oldest first
            self.lib.llama_memory_seq_rm(self.memory, self.store.evict_oldest(), -1, -1)
        budget = KvBudget(capacity)
        budget.reserved = self.store.tokens
        return budget

    def _cleanup(self, live: list[_Live], *, keep_store: bool) -> None:
        for s in live:
            self.lib.llama_sampler_free(s.sampler)
        if keep_store:
            for seq_id in range(self.n_seq_max):
                self.lib.llama_memory_seq_rm(self.memory, seq_id, -1, -1)
        else:  # after a failure, start the next call from an empty cache
            self.store.clear()
            self.lib.llama_memory_clear(self.memory, True)

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
        new: list[_Live] = []
        while pending and free_ids:
            i = pending[0]
            prompt = jobs[i].prompt
            if (live or new) and not budget.fits(prompt, limits[i]):
                break
            pending.popleft()
            budget.admit(prompt, limits[i])
            job = jobs[i]
            seq = _Live(
                i, free_ids.pop(), make_sampler(self.lib, job.temperature, job.seed), limits[i],
                len(prompt) - 1, prompt[-1], self._drafter(prompt), stop=job.stop + job.halt,
            )  # fmt: skip
            new.append(seq)
        groups: dict[Prompt, list[_Live]] = {}
        for s in new:
            groups.setdefault(jobs[s.job_index].prompt, []).append(s)
        donors = {jobs[s.job_index].prompt[:-1]: s.seq_id for s in live}
        for prompt, seqs in groups.items():
            head = prompt[:-1]  # the last prompt token is fed by the first decode step
            fresh = self._fill(head, [s.seq_id for s in seqs], donors, budget)
            if fresh is not None:
                results[seqs[0].job_index].prompt_tokens = fresh + 1
            donors[head] = seqs[0].seq_id
        return new

    def _fill(
        self, head: Prompt, seq_ids: list[int], donors: dict[Prompt, int], budget: KvBudget
    ) -> int | None:
        """Put ``head``'s cells into ``seq_ids``: copied from the sequence or kept prompt sharing
        the longest prefix, the rest decoded. Returns the tokens decoded (None: a live copy)."""
        if head in donors:
            for sid in seq_ids:
                self.lib.llama_memory_seq_cp(self.memory, donors[head], sid, 0, len(head))
            return None
        source, shared = self.store.best(head) or (-1, 0)
        for donor_head, sid in donors.items():
            n = common_prefix(donor_head, head)
            if n > shared:
                source, shared = sid, n
        for sid in seq_ids:
            if shared:
                self.lib.llama_memory_seq_cp(self.memory, source, sid, 0, shared)
        if shared < len(head):
            self._prefill(head, shared, seq_ids)
        self._keep(head, seq_ids[0], budget)
        return len(head) - shared

    def _keep(self, head: Prompt, seq_id: int, budget: KvBudget) -> None:
        """Keep a prompt's cells for later calls (they stay reserved in this run's budget)."""
        if len(head) < _MIN_KEPT_PREFIX:
            return
        before = self.store.tokens
        kept, evicted = self.store.add(head)
        for sid in evicted:
            self.lib.llama_memory_seq_rm(self.memory, sid, -1, -1)
        if kept is not None:
            self.lib.llama_memory_seq_cp(self.memory, seq_id, kept, 0, len(head))
        budget.reserved += self.store.tokens - before

    def _drafter(self, prompt: Prompt) -> Drafter | None:
        config = self.config.lookup
        if config is None:
            return None
        if prompt not in self._indexes:
            if len(self._indexes) > 64:  # prompts of finished calls are not needed again
                self._indexes.clear()
            index: dict[Ngram, int] = {}
            index_ngrams(prompt, config, index)
            self._indexes[prompt] = index
        return Drafter(prompt, self._indexes[prompt], config)

    def _finish(self, seq: _Live, job: SeqJob, result: SeqResult) -> None:
        text = b"".join(seq.pieces).decode("utf-8", errors="ignore")
        text = cut_at_stop(text, [s.decode() for s in job.stop])
        result.text = cut_after_halt(text, [s.decode() for s in job.halt])
        result.completion_tokens = len(seq.pieces)
        result.drafted, result.accepted = seq.drafted, seq.accepted
        # Frees the sequence's own cells; shared prompt cells stay while others still use them.
        self.lib.llama_memory_seq_rm(self.memory, seq.seq_id, -1, -1)
        self.lib.llama_sampler_free(seq.sampler)

    def _prefill(self, head: Prompt, start: int, seq_ids: Sequence[int]) -> None:
        """Decode ``head[start:]`` once for all ``seq_ids`` (no logits needed)."""
        b = self.batch
        for chunk_start in range(start, len(head), self.n_batch):
            chunk = head[chunk_start : chunk_start + self.n_batch]
            for j, tok in enumerate(chunk):
                self._put(j, tok, chunk_start + j, seq_ids, logits=False)
            b.n_tokens = len(chunk)
            self.threads.tick()
            self._decode()

    def _put(self, j: int, token: int, pos: int, seq_ids: Sequence[int], *, logits: bool) -> None:
        b = self.batch
        b.token[j] = token
        b.pos[j] = pos
        b.n_seq_id[j] = len(seq_ids)
        for k, sid in enumerate(seq_ids):
            b.seq_id[j][k] = sid
        b.logits[j] = int(logits)

    def _step(self, live: list[_Live]) -> None:
        """Feed each live sequence its last token (and its draft), then sample, in one decode."""
        threads = self.threads.tick()
        self._plan(live, threads)
        offsets = []
        n = 0
        for s in live:
            offsets.append(n)
            for k, tok in enumerate([s.last, *s.draft]):
                self._put(n + k, tok, s.pos + k, (s.seq_id,), logits=True)
            n += 1 + len(s.draft)
        self.batch.n_tokens = n
        start = time.perf_counter()
        self._decode()
        seconds = time.perf_counter() - start
        self.costs.record(threads, n, seconds)
        self.threads.observe(n, seconds)
        for s, offset in zip(live, offsets, strict=True):
            self._verify(s, offset)

    def _plan(self, live: list[_Live], threads: int) -> None:
        """Set each live sequence's draft: the drafted tokens worth verifying in this step."""
        config = self.config.lookup
        for s in live:
            room = s.limit - len(s.pieces) - 1  # the token sampled after the draft counts too
            s.draft = s.drafter.draft(room) if s.drafter else []
        if config is None or not any(s.draft for s in live):
            return
        if self.threads.probing:  # plain steps, so that the thread counts compare like for like
            for s in live:
                s.draft = []
            return
        rates = [s.drafter.acceptance.rate if s.drafter else 0.0 for s in live]
        keep = plan_drafts(
            [len(s.draft) for s in live], rates, self.costs, threads, config.max_step_draft
        )
        for s, k in zip(live, keep, strict=True):
            s.draft = s.draft[:k]

    def _verify(self, s: _Live, offset: int) -> None:
        """Sample at each fed position while the draft agrees; drop the cells of the rest."""
        accepted: list[int] = []
        taken = s.accepted
        s.drafted += len(s.draft)
        for k in range(len(s.draft) + 1):
            token = self.lib.llama_sampler_sample(s.sampler, self.ctx, offset + k)
            s.pos += 1
            if self.lib.llama_vocab_is_eog(self.vocab, token):
                s.done = True
                break
            piece = token_piece(self.lib, self.vocab, token)
            s.pieces.append(piece)
            accepted.append(token)
            s.last = token
            # A stop string inside a drafted run halts it at the same token as plain decoding.
            hit, s.tail = stop_seen(s.stop, s.tail, piece)
            s.done = hit or len(s.pieces) >= s.limit
            if s.done or k == len(s.draft) or token != s.draft[k]:
                break
            s.accepted += 1
        if s.drafter:
            s.drafter.extend(accepted)
            s.drafter.feedback(len(s.draft), s.accepted - taken)
        if not s.done and s.draft:
            # Cells after ``last`` hold drafted tokens the model did not take.
            self.lib.llama_memory_seq_rm(self.memory, s.seq_id, s.pos, -1)

    def _decode(self) -> None:
        rc = self.lib.llama_decode(self.ctx, self.batch)
        if rc != 0:
            raise DecodeFailed(f"llama_decode returned {rc}")
