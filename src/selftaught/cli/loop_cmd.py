"""`selftaught run` and `selftaught transfer`: thin layers over `selftaught.search`."""

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
from rich.table import Table

from selftaught.cli.errors import INTERRUPTED, fail
from selftaught.cli.options import (
    BaseUrlOpt,
    ConfigOpt,
    ExecutorOpt,
    LmBudgetOpt,
    MaxConcurrencyOpt,
    MaxTokensOpt,
    ModelOpt,
    NoCacheOpt,
    RecordOpt,
    ResponsesOpt,
    SeedOpt,
    UtilityBudgetOpt,
    model_access,
)
from selftaught.cli.output import stdout_console
from selftaught.cli.progress import RichProgress
from selftaught.config import CONFIG_NAME, PAPER_BUDGETS, RunConfig, load_config
from selftaught.report.lineage import pct
from selftaught.search.summary import input_gain_note

DEFAULT_OUT = Path("runs/latest")
_DEFAULTS = RunConfig()


def _base_config(
    config_file: Path | None, paper_budgets: bool = False, run_dir: Path | None = None
) -> RunConfig:
    """The config that flags are applied to: a stored run's own when `run_dir` holds one (so
    only the options given change), else the defaults; then --paper-budgets, then --config."""
    stored = run_dir / CONFIG_NAME if run_dir is not None else None
    base = load_config(stored) if stored is not None and stored.is_file() else RunConfig()
    if paper_budgets:
        base = base.replace(**PAPER_BUDGETS)
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
        f"initial improver: {cfg.initial_improver}   decoding: {cfg.decoding}"
        f" (reply prefix {cfg.reply_prefix!r})   guidance: {cfg.shows_guidance}"
        f"   meta replies continue the parent: {cfg.continues_parent}",
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
            pct(it["meta_utility_val"]),
            pct(it["meta_utility_test"]),
            "yes" if it["adopted"] else "no",
        )
    return table


def _print_summary(console: Console, summary: dict[str, Any], run_dir: Path) -> None:
    console.print(_summary_table(summary))
    changed = summary.get("adopted_changes")
    if changed is not None:
        what = "; ".join(changed["changes"]) or "nothing but its layout and comments"
        console.print(f"the adopted improver {changed['to_sha256'][:12]} changed: {what}")
        if changed.get("returns_its_input"):
            console.print(f"  it {input_gain_note(changed['returns_its_input'])}")
    c, lm = summary["circumvention"], summary["lm"]
    lo, hi = c["wilson_95"]
    console.print(
        f"circumvention: {c['attempts']} of {c['improvements']} LM-written improvers "
        f"({pct(c['rate'])}, 95% Wilson CI {pct(lo)}-{pct(hi)})"
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


def _improver_reference(spec: str | None) -> str | None:
    """An improver file's absolute path (so the stored config works from any directory), or the
    name as given."""
    if spec is None or not (spec.endswith(".py") or Path(spec).exists()):
        return spec
    return str(Path(spec).resolve())


def _show(default: object) -> str:
    return str(default)


def run_command(
    task: Annotated[
        str | None,
        typer.Option("--task", help="Meta-training task.", show_default=_DEFAULTS.task),
    ] = None,
    iterations: Annotated[
        int | None,
        typer.Option(
            "--iterations",
            help="T: self-improvement steps (a tree search's expansions). A larger T continues "
            "a stored run.",
            show_default=_show(_DEFAULTS.iterations),
        ),
    ] = None,
    runs: Annotated[
        int | None,
        typer.Option("--runs", help="R runs per meta-utility.", show_default=_show(_DEFAULTS.runs)),
    ] = None,
    model: ModelOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Run directory; one that holds a run is continued.",
            show_default=str(DEFAULT_OUT),
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option("--resume", help="Continue the run in this directory (options given apply)."),
    ] = None,
    seed: SeedOpt = None,
    paper_mode: Annotated[
        bool, typer.Option("--paper-mode", help="Adopt any candidate scoring above 0.")
    ] = False,
    paper_budgets: Annotated[
        bool, typer.Option("--paper-budgets", help="Use the paper's budgets (slow on CPU).")
    ] = False,
    initial_improver: Annotated[
        str | None,
        typer.Option(
            "--initial-improver",
            help="The improver to start from (I_0): a shipped name (see `compare --list`) or an"
            " improver file.",
            show_default="seed, the paper's",
        ),
    ] = None,
    meta_rewrite: Annotated[
        bool,
        typer.Option(
            "--meta-rewrite",
            help="Ask the meta level for whole improvers, as the paper does, instead of one new"
            " step inside the parent (meta_continue = false; docs/small-models.md).",
        ),
    ] = False,
    lm_budget: LmBudgetOpt = None,
    responses: ResponsesOpt = None,
    max_tokens: MaxTokensOpt = None,
    utility_budget: UtilityBudgetOpt = None,
    meta_utility_budget: Annotated[
        int | None,
        typer.Option(
            "--meta-utility-budget",
            help="Meta-utility calls per self-improvement step; may grow when continuing.",
            show_default=_show(_DEFAULTS.meta_utility_budget),
        ),
    ] = None,
    config_file: ConfigOpt = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            help="chain, archive or hgm (a stored run keeps its own).",
            show_default="chain",
        ),
    ] = None,
    executor: ExecutorOpt = None,
    base_url: BaseUrlOpt = None,
    max_concurrency: MaxConcurrencyOpt = None,
    no_cache: NoCacheOpt = False,
    record: RecordOpt = None,
) -> None:
    """Run STOP: the improver improves itself for T iterations (resumable, extendable)."""
    from selftaught.search.plumbing import Plumbing
    from selftaught.search.run import SEARCHES, run_search

    console = Console(stderr=True, soft_wrap=True)
    if search is not None and search not in SEARCHES:
        raise fail(f"unknown --search {search!r}; valid: {', '.join(SEARCHES)}")
    if resume is not None and out is not None:
        raise fail(
            "give --resume DIR or --out DIR, not both (a directory holding a run is continued)"
        )
    run_dir = resume or out or DEFAULT_OUT
    if resume is not None and not (resume / CONFIG_NAME).is_file():
        raise fail(f"{resume} holds no run to resume (no {CONFIG_NAME})")
    config = _base_config(config_file, paper_budgets, run_dir).replace(
        task=task,
        iterations=iterations,
        runs=runs,
        model=model,
        seed=seed,
        paper_mode=paper_mode or None,
        initial_improver=_improver_reference(initial_improver),
        meta_continue=False if meta_rewrite else None,
        lm_budget=lm_budget,
        max_responses_per_call=responses,
        max_tokens=max_tokens,
        utility_budget=utility_budget,
        meta_utility_budget=meta_utility_budget,
        executor=executor,
    )
    if (run_dir / CONFIG_NAME).is_file():
        console.print(f"continuing the run in {run_dir}")
    for line in _budget_lines(config, run_dir):
        console.print(line, highlight=False)
    plumbing = Plumbing(
        access=model_access(base_url, no_cache, record, max_concurrency, config_file)
    )
    with _exit_on_interrupt(run_dir), RichProgress(console) as progress:
        summary = run_search(search, config, run_dir, progress=progress, plumbing=plumbing)
    _print_summary(stdout_console(), summary, run_dir)


def transfer_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory made by `selftaught run`.")],
    tasks: Annotated[
        str | None,
        typer.Option("--tasks", help="Comma-separated held-out tasks (default: the run's)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Model spec (default: the run's model).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    executor: ExecutorOpt = None,
    base_url: BaseUrlOpt = None,
    max_concurrency: MaxConcurrencyOpt = None,
    no_cache: NoCacheOpt = False,
    record: RecordOpt = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file whose base_url, max_concurrency and [prices] apply (the run keeps "
            "its own options); flags override it.",
        ),
    ] = None,
) -> None:
    """Table 1: original solution, seed improver, improved improver on held-out tasks."""
    from selftaught.search.plumbing import Plumbing
    from selftaught.search.transfer import transfer

    names = [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None
    plumbing = Plumbing(
        access=model_access(base_url, no_cache, record, max_concurrency, config_file)
    )
    with RichProgress(Console(stderr=True)) as progress:
        result = transfer(
            run_dir, names, model=model, executor=executor, progress=progress, plumbing=plumbing
        )
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    stdout_console().print(_transfer_table(result))


def _transfer_table(result: dict[str, Any]) -> Table:
    table = Table(
        title=f"Transfer (test split, mean over {result['runs']} runs; improved improver "
        f"{result['improved_improver_sha256'][:12]})"
    )
    for column in ("task", "original", "seed improver", "improved improver"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for row in result["rows"]:
        table.add_row(
            row["task"],
            pct(row["original"]),
            pct(row["seed_improver"]),
            pct(row["improved_improver"]),
        )
    return table


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("run")(run_command)
    app.command("transfer")(transfer_command)
