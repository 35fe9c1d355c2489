"""`selftaught compare`: a thin layer over `selftaught.search.compare.compare_improvers`."""

from __future__ import annotations

import json
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
    improver_help,
    model_access,
)
from selftaught.cli.output import stdout_console
from selftaught.cli.progress import RichProgress
from selftaught.config import RunConfig, load_config


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    return names or None


def _cell(row: dict[str, Any], original: float) -> str:
    se = row["stderr_test"]
    text = f"{row['mean_test']:.3f} ± {se:.3f}" if se is not None else f"{row['mean_test']:.3f}"
    # A difference the scorer's timing margins cannot resolve is marked, not left to look real.
    noise_tie = row.get("versus_original") == "tie" and row["mean_test"] != original
    return text + " ≈" if noise_tie else text


def compare_table(result: dict[str, Any]) -> Table:
    """Rows: improvers; columns: mean test utility ± s.e. per task, then LM use."""
    b = result["budgets"]
    table = Table(
        title=(
            f"Test utility, mean ± s.e. over {result['runs']} run(s); model {result['model']}; "
            f"per run: LM {b['lm_calls']} call(s) x {b['responses_per_call']} responses x "
            f"{b['max_tokens']} tokens, utility {b['utility_calls']} call(s)"
        )
    )
    table.add_column("improver")
    for task in result["tasks"]:
        table.add_column(task, justify="right")
    table.add_column("LM calls", justify="right")
    table.add_column("samples", justify="right")
    table.add_column("failed runs", justify="right")
    rows = {(r["improver"], r["task"]): r for r in result["rows"]}
    table.add_row(
        "(original)", *(f"{result['original'][t]:.3f}" for t in result["tasks"]), "", "", ""
    )
    for name in result["improvers"]:
        mine = [rows[(name, t)] for t in result["tasks"]]
        table.add_row(
            name,
            *(_cell(r, result["original"][r["task"]]) for r in mine),
            str(sum(r["lm_calls"] for r in mine)),
            str(sum(r["samples"] for r in mine)),
            str(sum(r["failures"] for r in mine)),
        )
    if any(_cell(r, result["original"][r["task"]]).endswith("≈") for r in result["rows"]):
        table.caption = (
            "≈: differs from the original by no more than the scorer's timing margin"
            " (instances near the time limit), so it counts as a tie"
        )
    return table


def compare_command(
    improvers: Annotated[
        str | None,
        typer.Option("--improvers", help=f"Comma-separated; default: all. {improver_help()}"),
    ] = None,
    tasks: Annotated[
        str | None,
        typer.Option(
            "--tasks", help="Comma-separated tasks (default: parity_noise,three_sat,maxcut)."
        ),
    ] = None,
    runs: Annotated[int, typer.Option("--runs", help="Runs per improver and task.")] = 2,
    model: ModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    out: Annotated[
        Path, typer.Option("--out", help="Run store, compare.json and compare.png go here.")
    ] = Path("runs/compare"),
    lm_budget: LmBudgetOpt = None,
    responses: ResponsesOpt = None,
    max_tokens: MaxTokensOpt = None,
    utility_budget: UtilityBudgetOpt = None,
    seed: SeedOpt = None,
    parallel: Annotated[
        int | None,
        typer.Option("--parallel", help="Sessions at once (local: 4; ray: as CPUs allow)."),
    ] = None,
    list_only: Annotated[
        bool, typer.Option("--list", help="List the shipped improvers and exit.")
    ] = False,
    config_file: ConfigOpt = None,
    executor: ExecutorOpt = None,
    base_url: BaseUrlOpt = None,
    max_concurrency: MaxConcurrencyOpt = None,
    no_cache: NoCacheOpt = False,
    record: RecordOpt = None,
) -> None:
    """Compare improvers: each improves each task's seed solution, scored on the test split."""
    from selftaught.improvers.catalog import list_improvers

    if list_only:
        for info in list_improvers():
            typer.echo(f"{info.name:18} {info.description}")
        return
    from selftaught.search.compare import compare_improvers
    from selftaught.search.plumbing import Plumbing

    base = load_config(config_file) if config_file else RunConfig()
    config = base.replace(
        model=model,
        lm_budget=lm_budget,
        max_responses_per_call=responses,
        max_tokens=max_tokens,
        utility_budget=utility_budget,
        seed=seed,
        executor=executor,
    )
    names = _names(improvers) or [info.name for info in list_improvers()]
    plumbing = Plumbing(
        access=model_access(base_url, no_cache, record, max_concurrency, config_file)
    )
    try:
        with RichProgress(Console(stderr=True)) as progress:
            result = compare_improvers(
                names,
                _names(tasks),
                runs=runs,
                config=config,
                out_dir=out,
                parallel=parallel,
                progress=progress,
                plumbing=plumbing,
            )
    except KeyboardInterrupt:
        raise fail(
            f"interrupted; rerun the same command to continue in {out}", INTERRUPTED
        ) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    console = stdout_console()
    console.print(compare_table(result))
    console.print(f"results: {out / 'compare.json'}  plot: {result.get('plot')}")


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("compare")(compare_command)
