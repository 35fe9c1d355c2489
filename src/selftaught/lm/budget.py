"""The paper's improver-facing language-model API, with its call budget, on the trusted side.

Rules (all enforced here, never by the untrusted improver):
- Each ``batch_prompt`` or ``prompt`` call costs one unit of budget, checked before any work;
  a spent budget raises LMBudgetExhausted.
- ``batch_prompt`` returns one response per message, in order. It accepts at most
  ``max_responses_per_call`` messages and *rejects* longer batches with InvalidLMRequest, since it
  could not return one response per message otherwise.
- ``prompt`` *clips* ``n_responses`` to ``max_responses_per_call``: asking for 10 with a limit of 6
  returns 6 responses.
- Identical messages in one call become one request with ``n`` = count, sampled together.
- Sample indices are ``index_offset`` plus a per-conversation occurrence counter, so asking the
  same question twice yields fresh samples, and a resumed session with the same offset asks for
  exactly the same cache keys.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

from selftaught.errors import InvalidLMRequest, LMBudgetExhausted
from selftaught.lm.types import (
    DEFAULT_MAX_TOKENS,
    Backend,
    Messages,
    SampleRequest,
    Usage,
    cut_at_stop,
)

DEFAULT_MAX_RESPONSES = 6


class BudgetedLanguageModel:
    """``batch_prompt`` / ``prompt`` over a Backend, limited to ``budget`` calls."""

    def __init__(
        self,
        backend: Backend,
        budget: int | None,
        *,
        max_responses_per_call: int = DEFAULT_MAX_RESPONSES,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        index_offset: int = 0,
        reply_prefix: str | Sequence[str] = "",
        stop: Sequence[str] = (),
        closing: tuple[str, str] | None = None,
        continue_prefix: str = "",
    ) -> None:
        if budget is not None and budget < 0:
            raise InvalidLMRequest(f"budget must be >= 0 or None, got {budget}")
        if max_responses_per_call < 1:
            raise InvalidLMRequest("max_responses_per_call must be >= 1")
        self.backend = backend
        self.budget = budget
        self.max_responses_per_call = max_responses_per_call
        self.max_tokens = max_tokens
        self.index_offset = index_offset
        # Every reply starts with this text: it is sent as the start of the assistant's turn
        # (so it is part of the prompt and the cache key) and put back in front of each reply.
        # Several prefixes take turns: message i of a call opens with prefix i mod their count.
        self.reply_prefixes = (
            (reply_prefix,) if isinstance(reply_prefix, str) else tuple(reply_prefix)
        )
        if not self.reply_prefixes:
            raise InvalidLMRequest("reply_prefix needs at least one prefix")
        # Replies end at the first of these strings (see SampleRequest.stop); cut here too, so a
        # cached or recorded reply that ran on reads exactly like one that stopped.
        self.stop = tuple(stop)
        # (marker, text): a reply is cut where it writes this marker and gets this text put after
        # it, so it still ends as a whole program (see tasks.contract.continuation_closing).
        # Decoding halts at the marker but keeps it (SampleRequest.halt): a stop would drop it, and
        # the reply would not show that it met the marker rather than its own end.
        self.closing = closing
        # What a reply started by the caller (`reply_starts`) opens with before that start: in
        # code decoding the fence and the contract's rule. Empty: replies cannot be started (plain
        # decoding, the paper's sampling), and `reply_starts` are ignored.
        self.continue_prefix = continue_prefix
        self.calls_used = 0
        self.responses_returned = 0
        self._seen: Counter[Messages] = Counter()
        self._lock = threading.Lock()

    @property
    def calls_left(self) -> int | None:
        """Remaining calls, or None when unlimited."""
        return None if self.budget is None else max(0, self.budget - self.calls_used)

    @property
    def usage(self) -> Usage:
        """The underlying backend's usage (shared by every session on that backend)."""
        return self.backend.usage

    def batch_prompt(
        self,
        expertise: str,
        messages: Sequence[str],
        temperature: float = 0.7,
        reply_starts: Sequence[str | None] | None = None,
    ) -> list[str]:
        """One response per message, in order. Costs one call.

        `reply_starts` (an extension of the paper's API): per message, text the reply is to
        continue (None: the usual start). With code decoding each such reply opens with the
        fence, the contract's rule and this text, which comes back in front of the reply; in plain
        decoding they are ignored.
        """
        if isinstance(messages, str) or not isinstance(messages, Sequence):
            raise InvalidLMRequest("batch_prompt needs a list of message strings")
        messages = list(messages)
        if len(messages) > self.max_responses_per_call:
            raise InvalidLMRequest(
                f"batch_prompt got {len(messages)} messages but max_responses_per_call is "
                f"{self.max_responses_per_call}"
            )
        _check_text("expertise", expertise)
        for m in messages:
            _check_text("message", m)
        return self._run(expertise, messages, temperature, self._starts(reply_starts, messages))

    def prompt(
        self, expertise: str, message: str, n_responses: int = 1, temperature: float = 0.7
    ) -> list[str]:
        """``n_responses`` responses to one message (clipped to max_responses_per_call)."""
        _check_text("expertise", expertise)
        _check_text("message", message)
        if isinstance(n_responses, bool) or not isinstance(n_responses, int) or n_responses < 1:
            raise InvalidLMRequest(f"n_responses must be a positive integer, got {n_responses!r}")
        n = min(n_responses, self.max_responses_per_call)
        return self._run(expertise, [message] * n, temperature)

    def _starts(
        self, reply_starts: Sequence[str | None] | None, messages: list[str]
    ) -> list[str | None]:
        """`reply_starts` checked against `messages`; all None when there are none or when
        replies cannot be started (plain decoding)."""
        if reply_starts is None or not self.continue_prefix:
            return [None] * len(messages)
        if isinstance(reply_starts, str) or not isinstance(reply_starts, Sequence):
            raise InvalidLMRequest("reply_starts needs a list with one entry per message")
        starts = list(reply_starts)
        if len(starts) != len(messages):
            raise InvalidLMRequest(
                f"reply_starts has {len(starts)} entries for {len(messages)} messages"
            )
        for start in starts:
            if start is not None:
                _check_text("reply start", start)
        return starts

    def _run(
        self,
        expertise: str,
        messages: list[str],
        temperature: float,
        starts: Sequence[str | None] | None = None,
    ) -> list[str]:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float):
            raise InvalidLMRequest(f"temperature must be a number, got {temperature!r}")
        if not 0.0 <= temperature <= 2.0:
            raise InvalidLMRequest(f"temperature must be in [0, 2], got {temperature}")
        prefixes = [
            self._prefix(i, start) for i, start in enumerate(starts or [None] * len(messages))
        ]
        convs = [_conversation(expertise, m, p) for m, p in zip(messages, prefixes, strict=True)]
        with self._lock:
            if self.budget is not None and self.calls_used >= self.budget:
                raise LMBudgetExhausted(
                    f"language-model budget exhausted: all {self.budget} call(s) used"
                )
            self.calls_used += 1
            requests, slots = self._plan(convs, float(temperature))
        results = self.backend.generate(requests) if requests else []
        out = [
            prefix + self._ending(results[r][j].text)
            for prefix, (r, j) in zip(prefixes, slots, strict=True)
        ]
        with self._lock:
            self.responses_returned += len(out)
        return out

    def _prefix(self, position: int, start: str | None) -> str:
        """How the reply to message `position` opens: after `start` when it continues one."""
        if start is None:
            return self.reply_prefixes[position % len(self.reply_prefixes)]
        return self.continue_prefix + start

    def _ending(self, text: str) -> str:
        """The reply's text up to its first stop string, or up to `closing`'s marker, closed."""
        body = cut_at_stop(text, self.stop)
        if self.closing and self.closing[0] in body:
            return body[: body.index(self.closing[0])] + self.closing[1]
        return body

    def _plan(
        self, convs: list[Messages], temperature: float
    ) -> tuple[list[SampleRequest], list[tuple[int, int]]]:
        """Group identical conversations; return requests and, per message, (request, sample)."""
        order: dict[Messages, int] = {}
        counts: Counter[Messages] = Counter()
        slots: list[tuple[int, int]] = []
        for conv in convs:
            pos = order.setdefault(conv, len(order))
            slots.append((pos, counts[conv]))
            counts[conv] += 1
        requests = []
        for conv in order:
            first = self.index_offset + self._seen[conv]
            self._seen[conv] += counts[conv]
            halt = (self.closing[0],) if self.closing else ()
            requests.append(
                SampleRequest(
                    conv, counts[conv], temperature, self.max_tokens, first, self.stop, halt
                )
            )
        return requests, slots


def _conversation(expertise: str, message: str, reply_prefix: str = "") -> Messages:
    conv: Messages = (
        (("system", expertise), ("user", message)) if expertise else (("user", message),)
    )
    return (*conv, ("assistant", reply_prefix)) if reply_prefix else conv


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise InvalidLMRequest(f"{name} must be a string, got {type(value).__name__}")
