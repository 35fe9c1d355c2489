"""Wall time of n=6 samples of one prompt on the embedded 0.5B model: sequential over batched.

Sequential decodes the six samples one after another (each with its own prefill); batched
prefills the shared prompt once and decodes the six sequences in one batch. Both use the same
per-sample seeds. Run: PYTHONPATH=src .venv/bin/python bench/bench_batching.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from selftaught.lm import MODELS, SampleRequest
from selftaught.lm.assemble import ensure_model
from selftaught.lm.llama_backend import LlamaBackend

PROMPT = (
    ("system", "You are an expert Python programmer."),
    ("user", "Write a Python function that returns the n-th Fibonacci number, with a docstring."),
)


def timed(backend: LlamaBackend, batched: bool, n: int, max_tokens: int) -> tuple[float, int]:
    backend.batched = batched
    start = time.perf_counter()
    [samples] = backend.generate([SampleRequest(PROMPT, n, 0.7, max_tokens)])
    return time.perf_counter() - start, sum(s.completion_tokens for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b", choices=sorted(MODELS))
    parser.add_argument("-n", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (all cores)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    path = ensure_model(MODELS[args.model])
    backend = LlamaBackend(path, spec=f"embedded:{args.model}", n_threads=args.threads)
    timed(backend, True, 1, 8)  # warm-up: first-use allocations are not part of either figure
    print(
        f"model {args.model}, n={args.n}, max_tokens={args.max_tokens}, "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    seq_s, seq_tok = timed(backend, False, args.n, args.max_tokens)
    bat_s, bat_tok = timed(backend, True, args.n, args.max_tokens)
    print(f"sequential: {seq_s:6.1f} s, {seq_tok} tokens, {seq_tok / seq_s:5.1f} tok/s")
    print(f"batched:    {bat_s:6.1f} s, {bat_tok} tokens, {bat_tok / bat_s:5.1f} tok/s")
    print(f"wall-time ratio sequential/batched: {seq_s / bat_s:.2f}")
    print(f"throughput ratio batched/sequential: {(bat_tok / bat_s) / (seq_tok / seq_s):.2f}")


if __name__ == "__main__":
    main()
