"""KV-cache planning for the batched engine (pure bookkeeping, no llama.cpp calls).

``KvBudget`` decides whether another sequence fits in the context. ``PrefixStore`` remembers the
prompts whose cells were kept after a call, so that a later prompt starting the same way (the same
system prompt, program and utility text) copies those cells instead of decoding them again.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence

Prompt = tuple[int, ...]


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


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


class PrefixStore:
    """Prompt heads kept in the KV cache between calls, each under a sequence id of its own.

    The least recently used entry is evicted when the ids run out or the kept tokens would exceed
    ``max_tokens``. The caller applies evictions to the KV cache (``llama_memory_seq_rm``).
    """

    def __init__(self, seq_ids: Iterable[int], max_tokens: int) -> None:
        self.free = sorted(seq_ids, reverse=True)
        self.max_tokens = max_tokens
        self.entries: OrderedDict[Prompt, int] = OrderedDict()

    @property
    def tokens(self) -> int:
        """Cells held by kept prompts (counted as if none were shared)."""
        return sum(len(p) for p in self.entries)

    def best(self, head: Prompt) -> tuple[int, int] | None:
        """The kept entry sharing the longest prefix with ``head``: (sequence id, length)."""
        found = None
        for prompt, seq_id in self.entries.items():
            n = common_prefix(prompt, head)
            if n and (found is None or n > found[1]):
                found = (seq_id, n)
        if found is not None:
            self.entries.move_to_end(self._prompt_of(found[0]))
        return found

    def add(self, head: Prompt) -> tuple[int | None, list[int]]:
        """Keep ``head``: returns the id to copy its cells to (None: already kept or too long)
        and the ids of evicted entries, whose cells must be removed."""
        if head in self.entries:
            self.entries.move_to_end(head)
            return None, []
        if (not self.free and not self.entries) or len(head) > self.max_tokens:
            return None, []
        evicted = []
        while not self.free or self.tokens + len(head) > self.max_tokens:
            evicted.append(self.evict_oldest())
        seq_id = self.free.pop()
        self.entries[head] = seq_id
        return seq_id, evicted

    def evict_oldest(self) -> int:
        """Forget the least recently used entry; returns its sequence id (now free)."""
        _, seq_id = self.entries.popitem(last=False)
        self.free.append(seq_id)
        return seq_id

    def clear(self) -> None:
        while self.entries:
            self.evict_oldest()

    def _prompt_of(self, seq_id: int) -> Prompt:
        return next(p for p, s in self.entries.items() if s == seq_id)
