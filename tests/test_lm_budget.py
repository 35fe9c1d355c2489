"""BudgetedLanguageModel: budget, ordering, grouping of identical messages, sample indices."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from selftaught.errors import InvalidLMRequest, LMBudgetExhausted, SelftaughtError
from selftaught.lm import BudgetedLanguageModel, Sample, SampleRequest, Usage
from selftaught.lm.types import UsageMeter, cut_after_halt, cut_at_stop


class Echo:
    """A test double: answers ``<last user message>#<sample index>`` and logs every request."""

    spec = "echo"

    def __init__(self) -> None:
        self.calls: list[list[SampleRequest]] = []
        self._meter = UsageMeter()

    @property
    def usage(self) -> Usage:
        return self._meter.total

    def generate(self, requests: Sequence[SampleRequest]) -> list[list[Sample]]:
        self.calls.append(list(requests))
        out = [
            [Sample(f"{r.messages[-1][1]}#{i}", 3, 2, 0.01) for i in r.indices] for r in requests
        ]
        self._meter.record_call([s for row in out for s in row])
        return out


def test_batch_prompt_returns_one_answer_per_message_in_order() -> None:
    lm = BudgetedLanguageModel(Echo(), budget=3)
    assert lm.batch_prompt("expert", ["a", "b", "c"]) == ["a#0", "b#0", "c#0"]


def test_identical_messages_are_grouped_into_one_request_with_n() -> None:
    backend = Echo()
    lm = BudgetedLanguageModel(backend, budget=3)
    out = lm.batch_prompt("expert", ["x", "y", "x", "x"], temperature=0.5)
    assert out == ["x#0", "y#0", "x#1", "x#2"]
    [requests] = backend.calls
    assert [(r.messages[-1][1], r.n, r.first_index) for r in requests] == [("x", 3, 0), ("y", 1, 0)]
    assert all(r.temperature == 0.5 for r in requests)


def test_expertise_becomes_the_system_message() -> None:
    backend = Echo()
    lm = BudgetedLanguageModel(backend, budget=2)
    lm.prompt("You are a tester.", "hi")
    lm.prompt("", "hi")
    first, second = backend.calls
    assert first[0].messages == (("system", "You are a tester."), ("user", "hi"))
    assert second[0].messages == (("user", "hi"),)


def test_each_call_costs_one_unit_and_exhaustion_raises_typed_error() -> None:
    lm = BudgetedLanguageModel(Echo(), budget=2)
    lm.batch_prompt("e", ["a", "b", "c"])
    lm.prompt("e", "a", n_responses=4)
    assert lm.calls_used == 2
    assert lm.calls_left == 0
    with pytest.raises(LMBudgetExhausted, match="all 2 call"):
        lm.prompt("e", "a")
    assert issubclass(LMBudgetExhausted, SelftaughtError)
    assert lm.calls_used == 2


def test_unlimited_budget() -> None:
    lm = BudgetedLanguageModel(Echo(), budget=None)
    for _ in range(10):
        lm.prompt("e", "q")
    assert lm.calls_used == 10
    assert lm.calls_left is None


def test_repeated_questions_get_fresh_sample_indices_and_offset_applies() -> None:
    lm = BudgetedLanguageModel(Echo(), budget=5, index_offset=100)
    assert lm.prompt("e", "q", n_responses=2) == ["q#100", "q#101"]
    assert lm.batch_prompt("e", ["q", "r"]) == ["q#102", "r#100"]


def test_same_offset_replays_the_same_keys_on_resume() -> None:
    first, second = Echo(), Echo()
    for backend in (first, second):
        lm = BudgetedLanguageModel(backend, budget=3, index_offset=7)
        lm.prompt("e", "q", n_responses=3)
        lm.batch_prompt("e", ["q", "z"])
    assert first.calls == second.calls


def test_prompt_clips_n_responses_to_max_responses_per_call() -> None:
    lm = BudgetedLanguageModel(Echo(), budget=1, max_responses_per_call=6)
    assert len(lm.prompt("e", "q", n_responses=10)) == 6


def test_batch_prompt_rejects_more_messages_than_allowed_without_charging() -> None:
    lm = BudgetedLanguageModel(Echo(), budget=1, max_responses_per_call=2)
    with pytest.raises(InvalidLMRequest, match="max_responses_per_call is 2"):
        lm.batch_prompt("e", ["a", "b", "c"])
    assert lm.calls_used == 0


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda lm: lm.batch_prompt("e", "not a list"), "list of message strings"),
        (lambda lm: lm.batch_prompt("e", ["ok", 3]), "message must be a string"),
        (lambda lm: lm.prompt(None, "q"), "expertise must be a string"),
        (lambda lm: lm.prompt("e", "q", n_responses=0), "positive integer"),
        (lambda lm: lm.prompt("e", "q", temperature=5.0), r"temperature must be in \[0, 2\]"),
        (lambda lm: lm.prompt("e", "q", temperature="hot"), "temperature must be a number"),
    ],
)
def test_bad_arguments_raise_clear_errors_and_cost_nothing(call, pattern) -> None:  # type: ignore[no-untyped-def]
    lm = BudgetedLanguageModel(Echo(), budget=1)
    with pytest.raises(InvalidLMRequest, match=pattern):
        call(lm)
    assert lm.calls_used == 0


def test_max_tokens_is_passed_to_every_request() -> None:
    backend = Echo()
    BudgetedLanguageModel(backend, budget=1, max_tokens=77).batch_prompt("e", ["a", "b"])
    assert {r.max_tokens for r in backend.calls[0]} == {77}


def test_usage_is_the_backend_usage() -> None:
    backend = Echo()
    lm = BudgetedLanguageModel(backend, budget=2)
    lm.batch_prompt("e", ["a", "a", "b"])
    usage = lm.usage
    assert (usage.calls, usage.samples) == (1, 3)
    assert (usage.prompt_tokens, usage.completion_tokens) == (9, 6)
    assert usage.seconds == pytest.approx(0.03)


def test_a_reply_prefix_opens_the_assistant_turn_and_starts_every_reply() -> None:
    backend = Echo()
    lm = BudgetedLanguageModel(backend, 2, reply_prefix="```python\n")
    replies = lm.batch_prompt("expert", ["a", "b"])
    [requests] = backend.calls
    # the prefix is the last message, so it is part of the prompt and of every cache key
    assert [r.messages[-1] for r in requests] == [("assistant", "```python\n")] * 2
    assert [r.messages[1] for r in requests] == [("user", "a"), ("user", "b")]
    # Echo answers with the last message's text: the prefix itself, put back in front
    assert replies == ["```python\n```python\n#0", "```python\n```python\n#0"]
    plain = Echo()
    BudgetedLanguageModel(plain, 1).batch_prompt("expert", ["a"])
    assert plain.calls[0][0].messages[-1] == ("user", "a")


def test_several_reply_prefixes_take_turns_over_the_messages_of_a_call() -> None:
    backend = Echo()
    lm = BudgetedLanguageModel(backend, 2, reply_prefix=("A:", "B:"))
    replies = lm.batch_prompt("expert", ["m"] * 3)
    [requests] = backend.calls
    # the same message opened two ways is two conversations: messages 0 and 2 share one
    assert [(r.messages[-1], r.n) for r in requests] == [(("assistant", "A:"), 2),
                                                         (("assistant", "B:"), 1)]  # fmt: skip
    assert replies == ["A:A:#0", "B:B:#0", "A:A:#1"]  # each reply starts with its own prefix
    with pytest.raises(InvalidLMRequest, match="at least one prefix"):
        BudgetedLanguageModel(backend, 1, reply_prefix=())


def test_reply_starts_open_their_replies_after_the_continue_prefix() -> None:
    backend = Echo()
    lm = BudgetedLanguageModel(backend, 3, reply_prefix="H:", continue_prefix="F:")
    replies = lm.batch_prompt("expert", ["a", "b"], reply_starts=["def f():\n", None])
    [requests] = backend.calls
    assert [r.messages[-1] for r in requests] == [("assistant", "F:def f():\n"),
                                                  ("assistant", "H:")]  # fmt: skip
    assert replies == ["F:def f():\nF:def f():\n#0", "H:H:#0"]
    with pytest.raises(InvalidLMRequest, match="2 entries for 1 messages"):
        lm.batch_prompt("expert", ["a"], reply_starts=["x", "y"])
    with pytest.raises(InvalidLMRequest, match="reply start must be a string"):
        lm.batch_prompt("expert", ["a"], reply_starts=[3])  # type: ignore[list-item]
    assert lm.calls_used == 1  # refused requests cost nothing
    # plain decoding (no continue prefix): starts are ignored, every reply opens as usual
    plain = Echo()
    BudgetedLanguageModel(plain, 1, reply_prefix="H:").batch_prompt("e", ["a"], reply_starts=["x"])
    assert plain.calls[0][0].messages[-1] == ("assistant", "H:")


def test_a_closing_cuts_a_reply_at_its_marker_and_ends_it_with_the_closing_text() -> None:
    backend = Echo()  # replies "<prefix>#<index>": the marker "#" is in them
    lm = BudgetedLanguageModel(backend, 2, reply_prefix="P", closing=("#", "!"))
    assert lm.batch_prompt("expert", ["a"]) == ["PP!"]
    # decoding halts at the marker and keeps it; a stop would drop it, and the closing with it
    assert (backend.calls[0][0].stop, backend.calls[0][0].halt) == ((), ("#",))
    untouched = BudgetedLanguageModel(Echo(), 1, reply_prefix="P", closing=("never", "!"))
    assert untouched.batch_prompt("expert", ["a"]) == ["PP#0"]


def test_stop_strings_reach_the_backend_and_cut_replies_that_ran_past_them() -> None:
    backend = Echo()  # a reply that ran on (as a cached or recorded one may): "<message>#<index>"
    lm = BudgetedLanguageModel(backend, 2, reply_prefix="P:", stop=("#", "never"))
    assert lm.batch_prompt("expert", ["a"]) == ["P:P:"]  # cut at "#": the prefix, then its echo
    [[request]] = backend.calls
    assert request.stop == ("#", "never")
    assert cut_at_stop("abc\n```\nprose\ndef utility(", ("\ndef utility(", "\n```")) == "abc"
    assert cut_at_stop("no stop here", ("\n```",)) == "no stop here"
    with pytest.raises(InvalidLMRequest, match="halt strings must be non-empty"):
        SampleRequest((("user", "a"),), 1, 0.5, stop=("",))


def test_a_halt_string_is_kept_and_the_text_after_it_dropped() -> None:
    text = "step\n    # New step: x\n    more"
    assert cut_after_halt(text, ("# New", "more")) == "step\n    # New"
    assert cut_after_halt("nothing", ("# New",)) == "nothing"
    with pytest.raises(InvalidLMRequest, match="non-empty"):
        SampleRequest((("user", "u"),), 1, 0.0, halt=("",))
