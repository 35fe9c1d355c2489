"""Useful tokens per second on improve-style prompts: llama-cpp-python against the engine.

The prompts are the improve prompts of the recorded sessions (tests/fixtures/recordings), in
their recorded order. Every configuration decodes the same cells in one run:

- n=1: each prompt alone; n=4 at T>0: four samples of each prompt; n=4 at T=0: four different
  prompts in one call (four identical greedy samples would be decoded once by the engine);
- (a) ``Llama.create_chat_completion``, one call per sample, llama-cpp-python's own defaults
  (top-k 40, top-p 0.95, min-p 0.05, as the engine; its decode thread count, half the cores,
  also for batches);
- (b) the same with ``LlamaPromptLookupDecoding`` as its draft model;
- (c) the engine as before issue 15: all cores, no speculation, no kept prompts;
- (d) the engine with each addition: load-following threads, then prompt-lookup speculation,
  then prompts kept in the KV cache between calls (the default).

Figures are completion tokens over wall time (prefill included). ``--busy`` adds a second part:
(c) and (d) idle and beside one busy process (``python3 -c 'while True: pass'``).

Quick (a few minutes): ``PYTHONPATH=src .venv/bin/python bench/bench_decode.py``
Fuller: ``... bench/bench_decode.py --prompts 4 --max-tokens 384 --full --busy``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selftaught.lm import MODELS, Messages, SampleRequest
from selftaught.lm.assemble import ensure_model
from selftaught.lm.llama_backend import LlamaBackend, import_llama_cpp

RECORDINGS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "recordings"
CELLS = ((1, 0.0), (1, 0.7), (4, 0.0), (4, 0.7))


@dataclass(frozen=True)
class Cell:
    """One measured cell: what was asked (n, T) and what came back."""

    n: int
    temperature: float
    tokens: int
    seconds: float
    texts: tuple[str, ...]

    @property
    def rate(self) -> float:
        return self.tokens / self.seconds


def improve_prompts(count: int) -> list[Messages]:
    """Distinct improve-style prompts (a program to rewrite) from the recorded sessions."""
    seen: dict[Messages, None] = {}
    for path in sorted(RECORDINGS.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            messages = tuple((r, c) for r, c in json.loads(line)["messages"])
            if "```python" in messages[-1][1] and len(messages[-1][1]) > 1000:
                seen.setdefault(messages, None)
    return list(seen)[:count]


Runner = Callable[[list[Messages], int, float, int], tuple[int, list[str]]]


def measure(
    run: Runner, prompts: list[Messages], groups: list[list[Messages]], max_tokens: int
) -> list[Cell]:
    """Every cell: ``prompts`` one at a time, or (n=4, T=0) ``groups`` of four prompts."""
    cells = []
    for n, temperature in CELLS:
        calls = (
            [(g, 1) for g in groups] if n == 4 and temperature == 0 else [([p], n) for p in prompts]
        )
        start = time.perf_counter()
        tokens, texts = 0, []
        for call_prompts, call_n in calls:
            t, x = run(call_prompts, call_n, temperature, max_tokens)
            tokens, texts = tokens + t, texts + x
        cells.append(Cell(n, temperature, tokens, time.perf_counter() - start, tuple(texts)))
        print(f"  n={n} T={temperature}: {cells[-1].rate:.1f} tokens/s", file=sys.stderr)
    return cells


def llama_runner(path: Path, draft: bool) -> tuple[Runner, Callable[[], None]]:
    """(a)/(b): llama-cpp-python's high-level API, one call per sample."""
    import_llama_cpp()
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    threads = max(1, (os.cpu_count() or 2) // 2)  # llama-cpp-python's default for decoding
    llm = Llama(
        str(path),
        n_ctx=2048,
        verbose=False,
        # Its default n_threads_batch (all cores) also runs every drafted batch of (b), which
        # collapses beside other processes as (c) does; one count for both keeps (a)/(b) robust.
        n_threads=threads,
        n_threads_batch=threads,
        # With a draft model, llama-cpp-python keeps every position's logits but sizes that
        # buffer from ``logits_all`` alone, so it must be set too.
        logits_all=draft,
        draft_model=LlamaPromptLookupDecoding(num_pred_tokens=10) if draft else None,
    )

    def run(prompts: list[Messages], n: int, temperature: float, max_tokens: int) -> Any:
        tokens, texts = 0, []
        for messages in prompts:
            for seed in range(n):
                out: Any = llm.create_chat_completion(
                    [{"role": r, "content": c} for r, c in messages],
                    temperature=temperature,
                    max_tokens=max_tokens,
                    seed=seed,
                )
                tokens += out["usage"]["completion_tokens"]
                texts.append(out["choices"][0]["message"]["content"])
        return tokens, texts

    return run, llm.close


def engine_runner(path: Path, **options: Any) -> tuple[Runner, Callable[[], None]]:
    """(c)/(d): the batched engine; one generate call per prompt group."""
    backend = LlamaBackend(path, spec="bench", **options)
    index = iter(range(10**9))

    def run(prompts: list[Messages], n: int, temperature: float, max_tokens: int) -> Any:
        # A fresh sample index per call, as a session asks for new samples each time.
        requests = [SampleRequest(m, n, temperature, max_tokens, next(index)) for m in prompts]
        rows = backend.generate(requests)
        samples = [s for row in rows for s in row]
        return sum(s.completion_tokens for s in samples), [s.text for s in samples]

    run.backend = backend  # type: ignore[attr-defined]
    return run, backend.close


def configurations(full: bool) -> dict[str, dict[str, Any]]:
    old = {"n_threads": os.cpu_count(), "lookup": None, "prefix_slots": 0}
    steps = {
        "(c) engine before": old,
        "(d1) + load-following threads": {**old, "n_threads": None},
        "(d2) + prompt lookup": {"prefix_slots": 0},
        "(d) + kept prompts (default)": {},
    }
    if not full:
        del steps["(d1) + load-following threads"], steps["(d2) + prompt lookup"]
    return steps


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def report(name: str, cells: Sequence[Cell]) -> None:
    row = "  ".join(f"{c.rate:6.1f}" for c in cells)
    print(f"{name:34s} {row}   ({load()})", flush=True)


def busy_part(path: Path, prompt: Messages, max_tokens: int) -> None:
    print("\nbeside one busy process (n=1, T=0, tokens/s): idle, busy, slowdown")
    for name, options in (
        ("(c) engine before", configurations(False)["(c) engine before"]),
        ("(c) with 1 thread", {**configurations(False)["(c) engine before"], "n_threads": 1}),
        ("(d) engine after", {}),
    ):
        run, close = engine_runner(path, **options)
        run([prompt], 1, 0.0, 8)
        governor = run.backend.engine.threads  # type: ignore[attr-defined]
        rates, threads = [], []
        for busy in (False, True):
            hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
            try:
                start = time.perf_counter()
                tokens, _ = run([prompt], 1, 0.0, max_tokens)
                rates.append(tokens / (time.perf_counter() - start))
                threads.append(f"{governor.threads} threads, {governor.switches} switches")
            finally:
                if hog is not None:
                    hog.kill()
                    hog.wait()
        close()
        slowdown = rates[0] / rates[1]
        print(f"{name:20s} {rates[0]:6.1f} {rates[1]:6.1f}  {slowdown:.2f}x ({load()}) {threads}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b", choices=sorted(MODELS))
    parser.add_argument("--prompts", type=int, default=1, help="improve prompts (up to 12)")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--full", action="store_true", help="also (d1), (d2): each addition")
    parser.add_argument("--busy", action="store_true", help="also measure beside a busy process")
    parser.add_argument("--skip-llama", action="store_true", help="skip (a) and (b)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    path = ensure_model(MODELS[args.model])
    every = improve_prompts(12)
    one = every[: args.prompts]
    # n=4 at T=0 takes four different prompts per call: groups of the first ones recorded.
    count = 4 * max(1, len(one) // 4)
    groups = [every[i : i + 4] for i in range(0, count, 4)]
    print(f"model {args.model}, {args.prompts} prompt(s), max_tokens {args.max_tokens}, ", end="")
    print(f"{os.cpu_count()} cores, {load()} at start")
    print(f"{'tokens/s':34s} " + "  ".join(f"n={n},T={t}" for n, t in CELLS))
    results: dict[str, list[Cell]] = {}
    runners: dict[str, Callable[[], tuple[Runner, Callable[[], None]]]] = {}
    if not args.skip_llama:
        runners["(a) create_chat_completion"] = lambda: llama_runner(path, False)
        runners["(b) + prompt-lookup draft"] = lambda: llama_runner(path, True)
    for name, options in configurations(args.full).items():
        runners[name] = lambda options=options: engine_runner(path, **options)
    for name, make in runners.items():
        run, close = make()
        run([one[0]], 1, 0.0, 8)  # warm-up: first-use allocations belong to no figure
        results[name] = measure(run, one, groups, args.max_tokens)
        close()
        report(name, results[name])
    summarise(results)
    if args.busy:
        busy_part(path, one[0], args.max_tokens)


def summarise(results: dict[str, list[Cell]]) -> None:
    final = results["(d) + kept prompts (default)"]
    print("\nratios of (d) to each configuration, per cell:")
    for name, cells in results.items():
        if cells is final:
            continue
        ratios = "  ".join(f"{d.rate / c.rate:6.2f}x" for d, c in zip(final, cells, strict=True))
        print(f"(d) / {name:28s} {ratios}")
    before = results["(c) engine before"]
    for d, c in zip(final, before, strict=True):
        if d.temperature == 0:
            same = d.texts == c.texts
            print(f"greedy n={d.n}: text identical with and without speculation: {same}")


if __name__ == "__main__":
    main()
