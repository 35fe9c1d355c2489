"""Prompt-lookup drafting: guess the next tokens by finding the latest n-gram in the context.

A reply here usually rewrites a program that is already in its prompt, so after the last few
tokens of the reply, the tokens that followed the same few tokens earlier (in the prompt, or in
the reply so far) are a good guess for what comes next. The guesses cost no model: the engine
checks them in one batched decode and keeps the longest prefix the model itself sampled. How many
of them are worth checking is decided per step (``draft_policy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from selftaught.lm.draft_policy import Acceptance

Ngram = tuple[int, ...]


@dataclass(frozen=True)
class LookupConfig:
    """How to draft: n-gram sizes tried (longest first), the most tokens drafted for one sequence
    and the most drafted tokens verified in one decode, over all sequences."""

    # Single-token matches draft often and are mostly wrong: replayed on the recorded improve
    # sessions, 2..4-grams gave 2.6 tokens per step for 2.4 drafted, 1..4-grams 2.9 for 6.4.
    max_ngram: int = 4
    min_ngram: int = 2
    # 15 + the fed token make a batch of 16, which costs less than 12 on this CPU (see
    # draft_policy); the policy keeps fewer when the sequence's drafts are seldom taken.
    max_draft: int = 15
    max_step_draft: int = 16

    def __post_init__(self) -> None:
        if (
            not 1 <= self.min_ngram <= self.max_ngram
            or min(self.max_draft, self.max_step_draft) < 1
        ):
            raise ValueError(f"invalid lookup configuration {self}")


DEFAULT_LOOKUP = LookupConfig()


def index_ngrams(
    tokens: Sequence[int], config: LookupConfig, index: dict[Ngram, int], start: int = 0
) -> None:
    """Record, for each n-gram ending before the last token, where its continuation starts.

    Only n-grams whose continuation begins at ``start`` or later are (re)indexed, so a growing
    context is indexed incrementally; later occurrences overwrite earlier ones.
    """
    for cont in range(max(start, 1), len(tokens)):
        for n in range(config.min_ngram, min(config.max_ngram, cont) + 1):
            index[tuple(tokens[cont - n : cont])] = cont


class Drafter:
    """Drafts continuations for one sequence from its prompt and the tokens it generated."""

    def __init__(self, prompt: Sequence[int], prompt_index: dict[Ngram, int], config: LookupConfig):
        self.config = config
        self.context = list(prompt)
        self._prompt_index = prompt_index  # shared by every sequence of the same prompt
        self._own: dict[Ngram, int] = {}  # n-grams whose continuation lies in the reply
        self._indexed = len(prompt)
        self.acceptance = Acceptance()

    def feedback(self, drafted: int, accepted: int) -> None:
        """Record how much of the last draft the model took."""
        self.acceptance.update(drafted, accepted)

    def extend(self, tokens: Sequence[int]) -> None:
        """Append tokens the model accepted."""
        self.context.extend(tokens)

    def draft(self, limit: int) -> list[int]:
        """Up to ``limit`` (and ``config.max_draft``) guessed tokens that follow the context."""
        limit = min(limit, self.config.max_draft)
        if limit < 1:
            return []
        ctx = self.context
        index_ngrams(ctx, self.config, self._own, self._indexed)
        self._indexed = len(ctx)
        for n in range(min(self.config.max_ngram, len(ctx)), self.config.min_ngram - 1, -1):
            key = tuple(ctx[-n:])
            # The reply's own latest occurrence first: it reflects how the model is rewriting.
            cont = self._own.get(key) or self._prompt_index.get(key)
            if cont is not None:
                return ctx[cont : cont + limit]
        return []
