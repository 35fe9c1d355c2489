"""Verification of drafted tokens in the engine, on a scripted llama.cpp (no model needed).

A drafted run is kept while it equals what the sampler draws, and it ends exactly where plain
decoding would: at a refused token, at the end-of-generation token, or at a stop string.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

from selftaught.lm.llama_engine import LlamaEngine, SeqJob, SeqResult, _Live

PIECES = {1: b"x = ", 2: b"E", 3: b"ND", 4: b"1\n", 5: b"y", 9: b"z", 0: b""}
EOG = 0


class ScriptedLib:
    """What the sampler draws, in order, whatever the logits; records removed KV cells."""

    def __init__(self, draws: list[int]) -> None:
        self.draws: Iterator[int] = iter(draws)
        self.removed: list[tuple[int, int, int]] = []

    def llama_sampler_sample(self, sampler: object, ctx: object, index: int) -> int:
        return next(self.draws)

    def llama_vocab_is_eog(self, vocab: object, token: int) -> bool:
        return token == EOG

    def llama_token_to_piece(self, vocab: object, token: int, buf, size, lstrip, special) -> int:  # type: ignore[no-untyped-def]
        data = PIECES[token]
        ctypes.memmove(buf, data, len(data))
        return len(data)

    def llama_memory_seq_rm(self, memory: object, seq: int, p0: int, p1: int) -> None:
        self.removed.append((seq, p0, p1))

    def llama_sampler_free(self, sampler: object) -> None:
        pass


def engine(draws: list[int]) -> LlamaEngine:
    eng = LlamaEngine.__new__(LlamaEngine)  # verification only: no llama.cpp context
    eng.lib, eng.vocab, eng.ctx, eng.memory = ScriptedLib(draws), None, None, None
    return eng


def decode(draws: list[int], drafts: list[list[int]], stop: tuple[bytes, ...] = ()) -> _Live:
    """Steps with the given drafts (then plain steps) until the sequence is done."""
    eng = engine(draws)
    seq = _Live(0, 3, None, 20, 10, 7, None, stop=stop)
    steps = iter(drafts)
    while not seq.done:
        seq.draft = next(steps, [])
        eng._verify(seq, 0)
    return seq


def test_a_draft_is_kept_while_it_agrees_and_the_rest_is_dropped() -> None:
    eng = engine([1, 4, 9])
    seq = _Live(0, 3, None, 20, 10, 7, None)
    seq.draft = [1, 4, 5, 5]
    eng._verify(seq, 0)
    assert seq.pieces == [b"x = ", b"1\n", b"z"]  # two drafted tokens taken, then the model's own
    assert (seq.accepted, seq.drafted, seq.pos, seq.last) == (2, 4, 13, 9)
    assert eng.lib.removed == [(3, 13, -1)]  # the cells of the refused drafted tokens


def test_a_stop_string_inside_a_drafted_run_ends_it_where_plain_decoding_does() -> None:
    draws = [1, 2, 3, 4, 5, 5, EOG]
    stop = (b"END",)
    plain = decode(draws, [], stop)
    drafted = decode(draws, [[1, 2, 3, 4, 5]], stop)
    assert plain.pieces == drafted.pieces == [b"x = ", b"E", b"ND"]
    assert drafted.pos == plain.pos and drafted.done
    result = SeqResult()
    eng = engine([])
    eng._finish(drafted, SeqJob((1,), 0, 0.0, 20, stop), result)
    assert result.text == "x = " and result.completion_tokens == 3


def test_a_halt_string_ends_decoding_like_a_stop_but_the_text_keeps_it() -> None:
    draws = [1, 2, 3, 4, 5, 5, EOG]
    halted = decode(draws, [[1, 2, 3, 4, 5]], (b"END",))
    result = SeqResult()
    engine([])._finish(halted, SeqJob((1,), 0, 0.0, 20, (), (b"END",)), result)
    assert result.text == "x = END" and result.completion_tokens == 3


def test_the_end_of_generation_inside_a_draft_ends_the_sequence() -> None:
    draws = [1, 4, EOG, 5]
    drafted = decode(draws, [[1, 4, 5, 5]])
    assert drafted.pieces == [b"x = ", b"1\n"] and drafted.done
    assert drafted.pieces == decode(draws, []).pieces


def test_the_limit_ends_a_drafted_run() -> None:
    eng = engine([1, 4, 5, 9])
    seq = _Live(0, 3, None, 2, 10, 7, None)
    seq.draft = [1, 4, 5]
    eng._verify(seq, 0)
    assert seq.pieces == [b"x = ", b"1\n"] and seq.done
