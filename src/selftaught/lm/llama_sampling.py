"""Per-token helpers of the embedded engine: seeded sampler chains, token text, stop strings."""

from __future__ import annotations

import ctypes
from typing import Any

TOP_K = 40
TOP_P = 0.95
MIN_P = 0.05


def make_sampler(lib: Any, temperature: float, seed: int) -> Any:
    """A llama.cpp sampler chain: greedy at temperature 0, else top-k/top-p/min-p, seeded."""
    chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
    if temperature <= 0.0:
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
        return chain
    lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_k(TOP_K))
    lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_p(TOP_P, 1))
    lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_min_p(MIN_P, 1))
    lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(temperature))
    lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(seed))
    return chain


def token_piece(lib: Any, vocab: Any, token: int) -> bytes:
    """The bytes a token stands for (a piece may be part of a UTF-8 character)."""
    buf = ctypes.create_string_buffer(256)
    n = lib.llama_token_to_piece(vocab, token, buf, len(buf), 0, False)
    if n < 0:
        buf = ctypes.create_string_buffer(-n)
        n = lib.llama_token_to_piece(vocab, token, buf, len(buf), 0, False)
    return buf.raw[:n]


def stop_seen(stop: tuple[bytes, ...], tail: bytes, piece: bytes) -> tuple[bool, bytes]:
    """Whether a stop string has arrived with ``piece``, and the new tail: the text's last bytes,
    enough to see a stop string that spans pieces."""
    if not stop:
        return False, tail
    tail = (tail + piece)[-(max(map(len, stop)) + len(piece)) :]
    return any(s in tail for s in stop), tail
