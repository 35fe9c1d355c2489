"""`selftaught improve`, `selftaught run` and `selftaught transfer`: thin layers over
`selftaught.search.run`."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from selftaught.config import RunConfig, load_config
from selftaught.errors import SelftaughtError

USAGE_ERROR = 2
INTERRUPTED = 130

ModelOpt = Annotated[str | None, typer.Option("--model", help="Model spec (default: embedded).")]
ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="Where sessions and evaluations run: local (default) or ray (RAY_ADDRESS, else a "
        "local Ray instance). Results are the same.",
    ),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML file of run options; flags override it.")
]


class RichProgress:
    """Progress bars with ETA for LM samples and evaluations, on stderr."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._lock = threading.Lock()
        self._samples: TaskID = self.progress.add_task("LM samples", total=0)
        self._evals: TaskID = self.progress.add_task("evaluations", total=0)

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _grow(self, task: TaskID, by: int) -> None:
        current = self.progress.tasks[task].total or 0
        self.progress.update(task, total=current + by)

    def expect(self, *, samples: int = 0, evaluations: int = 0) -> None:
        with self._lock:
            self._grow(self._samples, samples)
            self._grow(self._evals, evaluations)

    def _advance(self, task: TaskID, n: int) -> None:
        with self._lock:
            state = self.progress.tasks[task]
            if state.completed + n > (state.total or 0):  # estimates are rough: never overflow
                self.progress.update(task, total=state.completed + n)
            self.progress.advance(task, n)

    def lm_samples(self, n: int) -> None:
        self._advance(self._samples, n)

    def evaluations(self, n: int) -> None:
        self._advance(self._evals, n)

    def note(self, text: str) -> None:
        self.progress.console.print(f"[dim]{text}[/dim]")


def _fail(message: str, code: int = USAGE_ERROR) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _base_config(config_file: Path | None, paper_budgets: bool = False) -> RunConfig:
    base = RunConfig.paper() if paper_budgets else RunConfig()
    return load_config(config_file, base) if config_file else base


def _budget_lines(cfg: RunConfig, run_dir: Path) -> list[str]:
    utility: int | str = cfg.utility_budget
    if not utility:
        from selftaught.tasks import get_task

        utility = f"{get_task(cfg.task).utility_budget} (the task's default)"
    return [
        f"run directory: {run_dir}   model: {cfg.model}   seed: {cfg.seed}   "
        f"executor: {cfg.executor}",
        f"meta-training task: {cfg.task}   iterations T={cfg.iterations}   runs R={cfg.runs}   "
        f"acceptance: {'paper (any score > 0)' if cfg.paper_mode else 'gated (> 0 and >= parent)'}",
        f"budgets per improver run: LM {cfg.lm_budget} call(s) x {cfg.max_responses_per_call} "
        f"responses x {cfg.max_tokens} tokens; utility {utility} call(s)",
        f"budgets per self-improvement: LM {cfg.meta_lm_budget} call(s) x "
        f"{cfg.max_responses_per_call} responses x {cfg.meta_max_tokens} tokens; "
        f"meta-utility {cfg.meta_utility_budget} call(s)",
        "(paper: T=6, R=5, LM 4 calls x 6 responses x 1024 tokens, meta-utility 25 calls;"
        " use --paper-budgets)",
    ]


def _summary_table(summary: dict[str, Any]) -> Table:
    table = Table(title="STOP iterations (meta-utility: mean downstream score over R runs)")
    for column in ("t", "improver", "val", "test", "adopted"):
        table.add_column(column, justify="right" if column in ("t", "val", "test") else "left")
    for it in summary["iterations"]:
        table.add_row(
            str(it["t"]),
            it["improver_sha256"][:12],
            f"{it['meta_utility_val']:.3f}",
            f"{it['meta_utility_test']:.3f}",
            "yes" if it["adopted"] else "no",
        )
    return table


def _print_summary(console: Console, summary: dict[str, Any], run_dir: Path) -> None:
    console.print(_summary_table(summary))
    c, lm = summary["circumvention"], summary["lm"]
    lo, hi = c["wilson_95"]
    console.print(
        f"circumvention: {c['attempts']} of {c['improvements']} LM-written improvers "
        f"({100 * c['rate']:.2f}%, 95% Wilson CI {100 * lo:.2f}-{100 * hi:.2f}%)"
    )
    console.print(
        f"LM: {lm['calls']} calls, {lm['samples']} samples, {lm['prompt_tokens']} prompt + "
        f"{lm['completion_tokens']} completion tokens, {lm['seconds']:.1f} s"
    )
    console.print(f"results: {run_dir / 'summary.json'}  database: {run_dir / 'run.sqlite'}")


@contextmanager
def _exit_on_interrupt(run_dir: Path) -> Iterator[None]:
    """Ctrl-C or SIGTERM ends the run at once: every finished step is already committed, and
    sandboxed processes die with their parent, so `--resume` continues where it stopped."""

    def handler(signum: int, frame: object) -> None:
        sys.stderr.write(f"\ninterrupted; continue with: selftaught run --resume {run_dir}\n")
        sys.stderr.flush()
        os._exit(INTERRUPTED)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_command(
    task: Annotated[str | None, typer.Option("--task", help="Meta-training task.")] = None,
    iterations: Annotated[int | None, typer.Option("--iterations", help="T.")] = None,
    runs: Annotated[int | None, typer.Option("--runs", help="R runs per meta-utility.")] = None,
    model: ModelOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Run directory.")] = Path("runs/latest"),
    resume: Annotated[
        Path | None, typer.Option("--resume", help="Resume the run in this directory.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Sampling seed.")] = None,
    paper_mode: Annotated[
        bool, typer.Option("--paper-mode", help="Adopt any candidate scoring above 0.")
    ] = False,
    paper_budgets: Annotated[
        bool, typer.Option("--paper-budgets", help="Use the paper's budgets (slow on CPU).")
    ] = False,
    lm_budget: Annotated[int | None, typer.Option("--lm-budget", help="LM calls per run.")] = None,
    responses: Annotated[
        int | None, typer.Option("--responses", help="max_responses_per_call.")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="Per response.")] = None,
    config_file: ConfigOpt = None,
    search: Annotated[
        str | None,
        typer.Option("--search", help="chain|archive|hgm; --resume keeps the run's own"),
    ] = None,
    executor: ExecutorOpt = None,
) -> None:
    """Run STOP: the improver improves itself for T iterations (resumable)."""
    from selftaught.search.tree_search import SEARCHES, run_search

    console = Console(stderr=True, soft_wrap=True)
    if search is not None and search not in SEARCHES:
        raise _fail(f"unknown --search {search!r}; valid: {', '.join(SEARCHES)}")
    try:
        config = _base_config(config_file, paper_budgets).replace(
            task=task,
            iterations=iterations,
            runs=runs,
            model=model,
            seed=seed,
            paper_mode=paper_mode or None,
            lm_budget=lm_budget,
            max_responses_per_call=responses,
            max_tokens=max_tokens,
            executor=executor,
        )
        run_dir = resume or out
        if resume is not None:
            console.print(
                f"resuming {resume} with its saved config (options other than --executor ignored)"
            )
            from selftaught.search.run import prepare_run_dir

            config = prepare_run_dir(config, resume, resume=True, executor=executor)
        for line in _budget_lines(config, run_dir):
            console.print(line)
        with _exit_on_interrupt(run_dir), RichProgress(console) as progress:
            summary = run_search(
                search, config, run_dir, resume=resume is not None, progress=progress
            )
    except SelftaughtError as exc:
        raise _fail(str(exc)) from None
    _print_summary(Console(), summary, run_dir)


def improve_command(
    file: Annotated[Path, typer.Argument(help="The program to improve.")],
    task: Annotated[str, typer.Option("--task", help="Task whose utility scores it.")],
    improver: Annotated[str, typer.Option("--improver", help="'seed' or a path.")] = "seed",
    model: ModelOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Keep the run store here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    config_file: ConfigOpt = None,
    executor: ExecutorOpt = None,
) -> None:
    """Improve one program once with one improver (scores on the held-out test split)."""
    from selftaught.search.run import improve_program

    console = Console(stderr=True)
    try:
        if not file.is_file():
            raise _fail(f"file not found: {file}")
        config = _base_config(config_file).replace(model=model, executor=executor)
        with RichProgress(console) as progress:
            result = improve_program(
                file.read_text(),
                task,
                improver=improver,
                config=config,
                out_dir=out,
                progress=progress,
            )
    except SelftaughtError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    out_console = Console()
    after = "none" if result["score_after"] is None else f"{result['score_after']:.3f}"
    out_console.print(
        f"{result['task']} (test split): {result['score_before']:.3f} -> {after}   "
        f"LM calls {result['lm_calls']}/{result['lm_budget']}, "
        f"{result['samples']} samples, circumvention attempts {result['circumvention_attempts']}"
    )
    if result["program"]:
        out_console.print(result["program"], markup=False, highlight=False)
    else:
        out_console.print(f"no program returned: {result['error']}")


def transfer_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory made by `selftaught run`.")],
    tasks: Annotated[
        str | None, typer.Option("--tasks", help="Comma-separated held-out tasks.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Model spec (default: the run's model).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    executor: ExecutorOpt = None,
) -> None:
    """Table 1: original solution, seed improver, improved improver on held-out tasks."""
    from selftaught.search.run import transfer

    names = [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None
    console = Console(stderr=True)
    try:
        with RichProgress(console) as progress:
            result = transfer(run_dir, names, model=model, executor=executor, progress=progress)
    except SelftaughtError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    table = Table(
        title=f"Transfer (test split, mean over {result['runs']} runs; improved improver "
        f"{result['improved_improver_sha256'][:12]})"
    )
    for column in ("task", "original", "seed improver", "improved improver"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for row in result["rows"]:
        table.add_row(
            row["task"],
            f"{100 * row['original']:.1f}%",
            f"{100 * row['seed_improver']:.1f}%",
            f"{100 * row['improved_improver']:.1f}%",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("improve")(improve_command)
    app.command("run")(run_command)
    app.command("transfer")(transfer_command)
