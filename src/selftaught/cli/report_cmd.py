"""`selftaught report` and `selftaught runs`: thin layers over `selftaught.report`."""

from __future__ import annotations

import json
import time
import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from selftaught.cli.errors import fail
from selftaught.cli.output import stdout_console
from selftaught.report.lineage import pct
from selftaught.writable import check_writable_file

STATUS_STYLE = {"running": "cyan", "finished": "green", "failed": "red"}


def report_command(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="A run directory (made by `selftaught run`, `compare` or `improve --out`)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the page (default RUN_DIR/report.html)."),
    ] = None,
    open_page: Annotated[
        bool, typer.Option("--open", help="Open the page in a web browser afterwards.")
    ] = False,
    price_in: Annotated[
        float | None,
        typer.Option(
            "--price-in",
            envvar="SELFTAUGHT_PRICE_IN",
            help="USD per 1M prompt tokens (openai: models only).",
        ),
    ] = None,
    price_out: Annotated[
        float | None,
        typer.Option(
            "--price-out",
            envvar="SELFTAUGHT_PRICE_OUT",
            help="USD per 1M completion tokens (openai: models only).",
        ),
    ] = None,
) -> None:
    """Write a self-contained HTML report of a run (plots, lineage, tables, programs)."""
    from selftaught.report import Prices, build_report
    from selftaught.report.build import REPORT_NAME

    if not run_dir.is_dir():
        raise fail(f"not a directory: {run_dir}")
    check_writable_file(out if out is not None else run_dir / REPORT_NAME, "report")
    prices = None
    if price_in is not None or price_out is not None:
        prices = Prices(price_in or 0.0, price_out or 0.0)
    path = build_report(run_dir, out, prices=prices)
    _print_improve_summary(run_dir)
    typer.echo(f"report: {path}")
    if open_page and not webbrowser.open(path.resolve().as_uri()):
        typer.echo("could not find a web browser; open the file above by hand", err=True)


def _print_improve_summary(run_dir: Path) -> None:
    """An improve run's findings in a few lines, besides the page."""
    from selftaught.report.improve_data import collect_improve
    from selftaught.report.improve_page import improve_summary
    from selftaught.store.kind import IMPROVE, search_kind

    if search_kind(run_dir) == IMPROVE:
        for line in improve_summary(collect_improve(run_dir)):
            typer.echo(line)


def _started(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "–"


def _short(path: str, folder: Path) -> str:
    """A run's path relative to the listed folder (the table is narrow enough then)."""
    try:
        return str(Path(path).relative_to(folder)) or "."
    except ValueError:
        return path


def runs_command(
    folder: Annotated[Path, typer.Argument(help="Folder holding run directories.")] = Path("runs"),
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the runs under a folder: status, best meta-utility, model, start time."""
    from selftaught.report import list_runs

    infos = list_runs(folder)
    if as_json:
        typer.echo(json.dumps([i.to_json() for i in infos], indent=2))
        return
    if not infos:
        typer.echo(f"no runs under {folder} (a run directory holds run.sqlite)")
        return
    table = Table(title=f"Runs under {folder} (best = highest validation meta-utility)")
    for column in ("run", "status", "search", "t", "best val", "its test", "model", "started"):
        # names wrap onto more lines rather than being cut: cut names can look alike
        table.add_column(
            column,
            justify="right" if column in ("t", "best val", "its test") else "left",
            overflow="fold",
        )
    for i in infos:
        style = STATUS_STYLE.get(i.status, "")
        planned = f"/{i.iterations_planned}" if i.iterations_planned is not None else ""
        done = "–" if i.iterations_done is None else str(i.iterations_done)
        table.add_row(
            _short(i.path, folder),
            f"[{style}]{i.status}[/{style}]" if style else i.status,
            i.search,
            f"{done}{planned}",
            pct(i.best_val),
            pct(i.best_test),
            i.model,
            _started(i.started),
        )
    console = stdout_console()
    console.print(table)
    for i in infos:
        if i.status != "finished":
            style = STATUS_STYLE[i.status]
            console.print(f"[{style}]{i.path}[/{style}]: {i.detail}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.command("report")(report_command)
    app.command("runs")(runs_command)
