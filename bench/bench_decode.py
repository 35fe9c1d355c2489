"""Useful tokens per second on improve-style prompts: llama-cpp-python against the engine.

The prompts are the improve prompts of the recorded sessions (tests/fixtures/recordings), in
their recorded order. Every configuration decodes the same cells in one run:

- n=1: each prompt alone; n=4 at T>0: four samples of each prompt; n=4 at T=0: four different
  prompts in one call (four identical greedy samples would be decoded once by the engine);
- (a) ``Llama.create_chat_completion``, one call per sample, llama-cpp-python's own defaults
  (top-k 40, top-p 0.95, min-p 0.05, as the engine; half the cores for decoding, all of them for
  prompts); (a+) the same with all cores for decoding too (the faster on an idle machine);
- (b) (a) with ``LlamaPromptLookupDecoding`` as its draft model;
- (c) the engine as before issue 15: all cores, no speculation, no kept prompts;
- (d) the engine with each addition: load-following threads, then prompt-lookup speculation,
  then prompts kept in the KV cache between calls (the default);
- (e) ``--model openai:`` (``OpenAIBackend``) against a local ``llama_cpp.server`` serving the
  same GGUF with its default threads.

Figures are completion tokens over wall time (prefill included). ``--busy`` adds a second part:
(c) and (d) idle and beside one busy process (``python3 -c 'while True: pass'``).

Quick (a few minutes): ``PYTHONPATH=src .venv/bin/python bench/bench_decode.py --only c,d``
Every row, in parts that each fit a short slot on a shared machine (``--save`` keeps a part's
cells, ``--merge`` prints them with the next part's, ratios included)::

    ... bench/bench_decode.py --only a,a+,e --save part1.json
    ... bench/bench_decode.py --only b --save part2.json
    ... bench/bench_decode.py --only c,d1,d2,d --merge part1.json part2.json --busy
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from selftaught.lm import MODELS, Messages, SampleRequest
from selftaught.lm.assemble import ensure_model
from selftaught.lm.llama_backend import LlamaBackend, import_llama_cpp

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = ROOT / "tests" / "fixtures" / "recordings"
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


def llama_runner(path: Path, draft: bool, threads: int | None) -> tuple[Runner, Callable[[], None]]:
    """(a)/(b): llama-cpp-python's high-level API, one call per sample. ``threads`` None: its
    defaults (half the cores for decoding, all for prompts and drafted batches)."""
    import_llama_cpp()
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    counts = {} if threads is None else {"n_threads": threads, "n_threads_batch": threads}
    llm = Llama(
        str(path),
        n_ctx=2048,
        verbose=False,
        # With a draft model, llama-cpp-python keeps every position's logits but sizes that
        # buffer from ``logits_all`` alone, so it must be set too.
        logits_all=draft,
        draft_model=LlamaPromptLookupDecoding(num_pred_tokens=10) if draft else None,
        **counts,
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


def server_runner(model: str) -> tuple[Runner, Callable[[], None]]:
    """(e): ``OpenAIBackend`` against ``llama_cpp.server`` serving the same GGUF."""
    sys.path.insert(0, str(ROOT / "tests"))
    from llama_server import serve
    from selftaught.lm.openai_backend import OpenAIBackend

    stack = ExitStack()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_decode_server_{os.getpid()}.log"
    server = serve(log, n_ctx=4096, threads=_half_cores(), model=model, alias="bench")
    url = stack.enter_context(server)
    backend = OpenAIBackend("bench", base_url=url)
    return _backend_run(backend), stack.close


def _half_cores() -> int:
    return max(1, (os.cpu_count() or 2) // 2)  # llama-cpp-python's default for decoding


def _backend_run(backend: Any) -> Runner:
    index = iter(range(10**9))

    def run(prompts: list[Messages], n: int, temperature: float, max_tokens: int) -> Any:
        # A fresh sample index per call, as a session asks for new samples each time.
        requests = [SampleRequest(m, n, temperature, max_tokens, next(index)) for m in prompts]
        rows = backend.generate(requests)
        samples = [s for row in rows for s in row]
        return sum(s.completion_tokens for s in samples), [s.text for s in samples]

    return run


def engine_runner(path: Path, **options: Any) -> tuple[Runner, Callable[[], None]]:
    """(c)/(d): the batched engine; one generate call per prompt group."""
    backend = LlamaBackend(path, spec="bench", **options)
    run = _backend_run(backend)
    run.backend = backend  # type: ignore[attr-defined]
    return run, backend.close


def engine_options() -> dict[str, dict[str, Any]]:
    """(c) and the steps of (d), by short name."""
    old = {"n_threads": os.cpu_count(), "lookup": None, "prefix_slots": 0}
    return {"c": old, "d1": {**old, "n_threads": None}, "d2": {"prefix_slots": 0}, "d": {}}


NAMES = {
    "a": "(a) create_chat_completion",
    "a+": "(a+) the same, all cores decoding",
    "b": "(b) (a) + prompt-lookup draft",
    "c": "(c) engine before",
    "d1": "(d1) + load-following threads",
    "d2": "(d2) + prompt lookup",
    "d": "(d) + kept prompts (default)",
    "e": "(e) openai: on llama_cpp.server",
}


def runners(model: str, path: Path) -> dict[str, Callable[[], tuple[Runner, Callable[[], None]]]]:
    cores = os.cpu_count() or 1
    out: dict[str, Callable[[], tuple[Runner, Callable[[], None]]]] = {
        "a": lambda: llama_runner(path, False, None),
        "a+": lambda: llama_runner(path, False, cores),
        "b": lambda: llama_runner(path, True, None),
        "e": lambda: server_runner(model),
    }
    for key, options in engine_options().items():
        out[key] = lambda options=options: engine_runner(path, **options)
    return out


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def report(name: str, cells: Sequence[Cell], when: str) -> None:
    row = "  ".join(f"{c.rate:9.1f}" for c in cells)
    print(f"{name:36s} {row}   ({when})", flush=True)


def busy_part(path: Path, prompt: Messages, max_tokens: int) -> None:
    print(f"\nbeside one busy process (n=1, T=0, {max_tokens} tokens, tokens/s):")
    print("engine               idle   busy  slowdown")
    old = engine_options()["c"]
    for name, options in (
        ("(c) engine before", old),
        ("(c) with 1 thread", {**old, "n_threads": 1}),
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
                threads.append(
                    f"{governor.threads} threads, {governor.switches} switches, "
                    f"{governor.probes} probes"
                )
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
    parser.add_argument("--only", default=",".join(NAMES), help="rows: " + ",".join(NAMES))
    parser.add_argument("--save", type=Path, help="write this part's cells to a JSON file")
    parser.add_argument("--merge", type=Path, nargs="*", default=[], help="earlier parts")
    parser.add_argument("--busy", action="store_true", help="also measure beside a busy process")
    parser.add_argument("--busy-tokens", type=int, default=256)
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
    print(f"{'tokens/s':36s} " + "  ".join(f"n={n},T={t}" for n, t in CELLS))
    results: dict[str, tuple[list[Cell], str]] = {}
    for part in args.merge:
        for key, (cells, when) in json.loads(part.read_text()).items():
            results[key] = ([Cell(**c) for c in cells], when)
            report(NAMES[key], results[key][0], f"{when}, from {part.name}")
    make = runners(args.model, path)
    for key in filter(None, args.only.split(",")):
        run, close = make[key]()
        try:
            run([one[0]], 1, 0.0, 8)  # warm-up: first-use allocations belong to no figure
            cells = measure(run, one, groups, args.max_tokens)
        finally:
            close()
        results[key] = (cells, f"{load()}, {time.strftime('%H:%M')}")
        report(NAMES[key], cells, results[key][1])
    if args.save:
        saved = {k: ([asdict(c) for c in cells], when) for k, (cells, when) in results.items()}
        args.save.write_text(json.dumps(saved))
    summarise({k: cells for k, (cells, _) in results.items()})
    if args.busy:
        busy_part(path, one[0], args.busy_tokens)


def summarise(results: dict[str, list[Cell]]) -> None:
    if "d" not in results:
        return
    final = results["d"]
    print("\nratios of (d) to each row, per cell:")
    for key, cells in results.items():
        if key != "d":
            ratios = "  ".join(
                f"{d.rate / c.rate:8.2f}x" for d, c in zip(final, cells, strict=True)
            )
            print(f"(d) / {NAMES[key]:30s} {ratios}")
    for key in ("c", "d1"):  # the engine without speculation, with and without the governor
        for d, c in zip(final, results.get(key, []), strict=False):
            if d.temperature == 0:
                same = d.texts == c.texts
                print(f"greedy n={d.n}: (d) text identical to {key} (no speculation): {same}")


if __name__ == "__main__":
    main()
