"""selftaught's `evolve` improver against OpenEvolve, at equal LM samples, on the same GGUF model.

Three systems per task, each given the same number of LM samples:
- `openevolve`: OpenEvolve from PyPI, installed by this script into its own virtualenv
  (`--venv`), calling the model through a `llama_cpp.server` this script starts on loopback;
- `selftaught-embedded`: `improve --improver evolve --samples N` with the embedded model;
- `selftaught-openai`: the same through the `openai:` backend against that server.

Everything is scored by selftaught's scorer: OpenEvolve's evaluator calls it (validation split)
through this script's Python, and every system's best program at 25/50/100 samples (best on
validation so far) is rescored on the held-out test split. The table gives those test scores,
the valid fraction (samples that gave a program scored without error) and the wall time.

OpenEvolve counts iterations: one iteration is one LM sample. It keeps only its last
checkpoints on disk, so its best at k samples is the best program of its last checkpoint found
within k iterations. selftaught's run store logs every sample, so its best at k samples is read
from `selftaught.report.improve_data`. The server decodes with every CPU, as the embedded engine
does (`llama_cpp.server`'s own default is half of them). Finished rows are kept in
`results.json` as they finish; a rerun skips them, and `--rescore` reads OpenEvolve's rows again.

Run (needs the model lock; a full run takes hours on 2 cores):
  flock /work/model.lock env PYTHONPATH=src .venv/bin/python bench/bench_vs_openevolve.py \\
      --samples 100 --model qwen2.5-coder-1.5b --out runs/vs_openevolve
A tiny check: --samples 4 --checkpoints 2 --model qwen2.5-coder-0.5b --tasks circle_packing
`--tasks` also takes task files (`--tasks path/to/task.py`, see docs/tasks.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import selftaught
from selftaught.config import RunConfig
from selftaught.lm.assemble import ensure_model
from selftaught.lm.factory import ModelAccess
from selftaught.lm.registry import MODELS
from selftaught.lm.threads import available_cpus
from selftaught.report.improve_data import collect_improve
from selftaught.search.improve import improve_program
from selftaught.search.plumbing import Plumbing
from selftaught.tasks import get_task, score_program

TASKS = ("circle_packing", "bin_packing")
OPENEVOLVE = "openevolve"
RESPONSES = 4  # selftaught's samples per LM call
MAX_TOKENS = 768
EVALUATOR = '''"""OpenEvolve evaluator: selftaught's scorer, validation split (via {python})."""
import json, subprocess

SCORE = {score!r}


def evaluate(program_path):
    out = subprocess.run([{python!r}, "-c", SCORE, {task!r}, program_path],
                         capture_output=True, text=True, timeout=1800)
    try:
        result = json.loads(out.stdout.strip().splitlines()[-1])
    except Exception:
        return {{"combined_score": 0.0, "valid": 0.0, "error": out.stderr[-500:]}}
    valid = 0.0 if result["error"] else 1.0
    return {{"combined_score": result["score"], "valid": valid}}
'''
# Run in OpenEvolve's venv. Its constructor changed between releases (a config object or a
# path; one initial program or a list): ask its signature.
DRIVER = """import asyncio, inspect, sys
from openevolve import OpenEvolve
from openevolve.config import load_config
initial, evaluator, config, out, iterations = sys.argv[1:6]
names = inspect.signature(OpenEvolve).parameters
kw = dict(evaluation_file=evaluator, output_dir=out)
if "config_path" in names:
    kw["config_path"] = config
else:
    kw["config"] = load_config(config)
if "initial_programs_paths" in names:
    kw["initial_programs_paths"] = [initial]
else:
    kw["initial_program_path"] = initial
try:
    asyncio.run(OpenEvolve(**kw).run(iterations=int(iterations)))
except Exception as exc:  # e.g. no iteration gave a program: its checkpoints still count
    print(f"openevolve: {type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(3)
"""
SCORE_SNIPPET = (
    "import json, sys; from selftaught.tasks import get_task, score_program; "
    "t = get_task(sys.argv[1]); r = score_program(t, open(sys.argv[2]).read(), 'val'); "
    "print(json.dumps({'score': float(r.score), 'error': r.error}))"
)


@dataclass(frozen=True)
class Row:
    """One system on one task: test score of the best-so-far program at each checkpoint."""

    task: str
    system: str
    best_test: dict[int, float | None]
    valid_fraction: float | None
    seconds: float


def task_folder(out: Path, task: str) -> Path:
    """Where one task's systems keep their runs: named by the task's name, so that a task file
    (`--tasks path/to/task.py`) gets a folder under `out` like a built-in task."""
    return out / get_task(task).name


# -- the model server ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(gguf: Path, n_ctx: int, port: int) -> list[str]:
    """`llama_cpp.server` on loopback with every CPU we may use, as the embedded engine has.

    The server's own default is half the cores (1 of 2 here), which would make its systems
    slower for a reason that has nothing to do with them.
    """
    threads = str(available_cpus())
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", str(n_ctx), "--model_alias", "local",
            "--n_threads", threads, "--n_threads_batch", threads]  # fmt: skip


@contextlib.contextmanager
def llama_server(gguf: Path, n_ctx: int) -> Iterator[str]:
    """A `llama_cpp.server` on loopback for the run's duration; yields its /v1 URL."""
    port = _free_port()
    cmd = server_command(gguf, n_ctx, port)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(600):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if proc.poll() is not None:
                raise SystemExit(f"llama_cpp.server exited with {proc.returncode}")
            time.sleep(1)
        yield url
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(30)
        if proc.poll() is None:
            proc.kill()


# -- OpenEvolve -------------------------------------------------------------------------------
def openevolve_python(venv_dir: Path) -> Path:
    """The Python of a virtualenv holding `openevolve` from PyPI (created on first use)."""
    python = venv_dir / "bin" / "python"
    if not python.is_file():
        venv.create(venv_dir, with_pip=True)
    probe = subprocess.run([str(python), "-c", "import openevolve"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", OPENEVOLVE], check=True)
    return python


def openevolve_config(url: str, samples: int, every: int, seed: int) -> str:
    """OpenEvolve's YAML: the local server, one sample per iteration, islands as its default."""
    return f"""max_iterations: {samples}
checkpoint_interval: {every}
random_seed: {seed}
diff_based_evolution: true
max_code_length: 20000
llm:
  api_base: "{url}"
  api_key: "none"
  models:
    - name: "local"
      weight: 1.0
  temperature: 0.7
  max_tokens: {MAX_TOKENS}
  timeout: 1800
database:
  population_size: 100
  num_islands: 3
evaluator:
  timeout: 1800
  cascade_evaluation: false
  parallel_evaluations: 1
"""


def run_openevolve(python: Path, url: str, task: str, samples: int, every: int, seed: int,
                   out: Path) -> Row:  # fmt: skip
    """Run OpenEvolve for `samples` iterations; rescore its checkpoints' best programs."""
    out.mkdir(parents=True, exist_ok=True)
    initial = out / "initial_program.py"
    initial.write_text(get_task(task).seed_solution)
    evaluator = out / "evaluator.py"
    evaluator.write_text(EVALUATOR.format(python=sys.executable, score=SCORE_SNIPPET, task=task))
    config = out / "config.yaml"
    config.write_text(openevolve_config(url, samples, every, seed))
    # the evaluator's scorer runs in this Python, which must find selftaught from any directory
    package_root = str(Path(selftaught.__file__).resolve().parents[1])
    env = {**os.environ, "OPENAI_API_KEY": "none", "PYTHONPATH": package_root}
    start = time.monotonic()
    done = subprocess.run(
        [str(python), "-c", DRIVER, str(initial), str(evaluator), str(config),
         str(out / "output"), str(samples)],
        env=env,
    )  # fmt: skip
    # exit 3: OpenEvolve gave up (with a 0.5B model no edit may apply); its checkpoints stand
    if done.returncode not in (0, 3):
        raise SystemExit(f"openevolve failed with exit code {done.returncode}")
    seconds = time.monotonic() - start
    return openevolve_row(task, out, samples, every, seconds)


def openevolve_row(task: str, out: Path, samples: int, every: int, seconds: float) -> Row:
    """OpenEvolve's row from its last checkpoint: best at each mark, rescored on test."""
    last = out / "output" / "checkpoints" / f"checkpoint_{samples}" / "programs"
    programs = openevolve_programs(last)
    best: dict[int, float | None] = {}
    for k in checkpoint_marks(samples, every):
        top = best_by(programs, k)
        best[k] = None if top is None else test_score(task, top["code"])
    valid = valid_share(programs, samples) if last.is_dir() else None
    return Row(task, "openevolve", best, valid, seconds)


def openevolve_programs(programs_dir: Path) -> list[dict[str, Any]]:
    """Every program in an OpenEvolve checkpoint's `programs` folder (the input included)."""
    return [json.loads(p.read_text()) for p in sorted(programs_dir.glob("*.json"))]


def best_by(programs: list[dict[str, Any]], k: int) -> dict[str, Any] | None:
    """The best program on validation found within `k` iterations, the earliest on a tie.

    OpenEvolve keeps only its last checkpoints on disk, so the best at an earlier mark is read
    from the iteration each program was found in. With at most `population_size` programs
    (100 here) none has been dropped from its database.
    """
    found = [p for p in programs if int(p.get("iteration_found", 0)) <= k]
    if not found:
        return None
    return max(found, key=lambda p: (_val_score(p), -int(p.get("iteration_found", 0))))


def _val_score(program: dict[str, Any]) -> float:
    return float(program.get("metrics", {}).get("combined_score", 0.0))


def valid_share(programs: list[dict[str, Any]], samples: int) -> float:
    """The share of `samples` whose program (the input excluded) was scored validly."""
    children = [p.get("metrics", {}) for p in programs if p.get("parent_id")]
    return sum(float(m.get("valid", 0.0)) for m in children) / max(1, samples)


# -- selftaught -------------------------------------------------------------------------------
def run_selftaught(system: str, model: str, access: ModelAccess, task: str, samples: int,
                   every: int, seed: int, out: Path) -> Row:  # fmt: skip
    """`improve --improver evolve --samples N` (resumable in `out`); best at each mark."""
    config = RunConfig(model=model, samples=samples, max_responses_per_call=RESPONSES,
                       max_tokens=MAX_TOKENS, seed=seed)  # fmt: skip
    start = time.monotonic()
    improve_program(get_task(task).seed_solution, task, improver="evolve", config=config,
                    out_dir=out, plumbing=Plumbing(access=access))  # fmt: skip
    seconds = time.monotonic() - start
    data = collect_improve(out)
    best: dict[int, float | None] = {}
    for k in checkpoint_marks(samples, every):
        so_far = [a for a in data.attempts if a.samples <= k and a.error is None]
        top = max(so_far, key=lambda a: (a.score, -a.n))
        best[k] = test_score(task, top.source)
    return Row(task, system, best, data.valid_share, seconds)


def checkpoint_marks(samples: int, every: int) -> list[int]:
    marks = [k for k in (25, 50, 100) if k <= samples and k % every == 0]
    return marks or [samples]


def test_score(task: str, source: str) -> float:
    return float(score_program(get_task(task), source, "test").score)


# -- the table --------------------------------------------------------------------------------
def table(rows: list[Row]) -> str:
    marks = sorted({k for r in rows for k in r.best_test})
    head = ["task", "system", *[f"best@{k}" for k in marks], "valid", "wall"]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in rows:
        cells = [r.task, r.system]
        cells += ["–" if r.best_test.get(k) is None else f"{r.best_test[k]:.4f}" for k in marks]
        cells.append("–" if r.valid_fraction is None else f"{100 * r.valid_fraction:.0f}%")
        cells.append(f"{r.seconds / 60:.1f} min")
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def load_rows(path: Path) -> list[Row]:
    """The rows a killed run already finished (its `results.json`), so they are not run again."""
    if not path.is_file():
        return []
    rows = []
    for raw in json.loads(path.read_text()):
        best = {int(k): v for k, v in raw.pop("best_test").items()}
        rows.append(Row(best_test=best, **raw))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--checkpoints", type=int, default=25, help="samples between marks")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b", choices=sorted(MODELS))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--systems", default="openevolve,selftaught-embedded,selftaught-openai")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--venv", type=Path, default=Path(".venv-openevolve"))
    parser.add_argument("--out", type=Path, default=Path("runs/vs_openevolve"))
    rescore_help = "read OpenEvolve's rows again from its outputs; run nothing"
    parser.add_argument("--rescore", action="store_true", help=rescore_help)
    args = parser.parse_args(argv)
    systems, tasks = args.systems.split(","), args.tasks.split(",")
    results = args.out / "results.json"
    rows = load_rows(results)
    done = {(r.task, r.system) for r in rows}

    def keep(row: Row) -> None:
        rows.append(row)
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps([asdict(r) for r in rows], indent=2))
        print(table(rows), flush=True)

    if args.rescore:
        kept, rows[:] = list(rows), []
        for r in kept:
            out = task_folder(args.out, r.task) / "openevolve"
            marks = (args.samples, args.checkpoints, r.seconds)
            keep(r if r.system != OPENEVOLVE else openevolve_row(r.task, out, *marks))
        return 0

    marks = (args.samples, args.checkpoints, args.seed)
    served = [(t, s) for t in tasks for s in (OPENEVOLVE, "selftaught-openai") if s in systems]
    served = [pair for pair in served if pair not in done]
    if served:
        gguf = ensure_model(MODELS[args.model])
        python = openevolve_python(args.venv) if OPENEVOLVE in systems else None
        with llama_server(gguf, args.n_ctx) as url:
            for task, system in served:
                base = task_folder(args.out, task)
                if system == OPENEVOLVE and python is not None:
                    keep(run_openevolve(python, url, task, *marks, base / "openevolve"))
                elif system == "selftaught-openai":
                    access = ModelAccess(base_url=url)
                    keep(run_selftaught(system, "openai:local", access, task, *marks,
                                        base / "openai"))  # fmt: skip
    # the embedded model runs after the server stops: both on 2 cores would slow each other
    if "selftaught-embedded" in systems:
        for task in tasks:
            if (task, "selftaught-embedded") not in done:
                keep(run_selftaught("selftaught-embedded", f"embedded:{args.model}",
                                    ModelAccess(), task, *marks,
                                    task_folder(args.out, task) / "embedded"))  # fmt: skip
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
