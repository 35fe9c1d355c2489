"""``selftaught models`` and ``selftaught ask``: thin layers over selftaught.lm.catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from selftaught.cli.output import stdout_console
from selftaught.errors import SelftaughtError

_err = Console(stderr=True)


def _fail(exc: SelftaughtError) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1)


def _size(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the model specs, their size, whether they are installed, and the cache paths."""
    from selftaught.lm.catalog import cache_locations, list_models

    rows, where = list_models(), cache_locations()
    if as_json:
        typer.echo(json.dumps({"models": [r.to_dict() for r in rows], **where}, indent=2))
        return
    table = Table("spec", "description", "size", "installed", "status")
    table.columns[0].no_wrap = True
    for r in rows:
        mark = "[green]yes[/green]" if r.installed else "[red]no[/red]"
        spec = f"{r.spec} [dim](default)[/dim]" if r.default else r.spec
        table.add_row(spec, r.description, _size(r.size_bytes), mark, r.status)
    console = stdout_console()
    console.print(table)
    console.print(f"response cache: {where['response_cache']}", highlight=False)
    console.print(f"model files:    {where['model_dir']}", highlight=False)


def ask(
    prompt: Annotated[str, typer.Argument(help="The user message.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model spec.")] = "embedded",
    temperature: Annotated[float, typer.Option(help="Sampling temperature (0 = greedy).")] = 0.0,
    max_tokens: Annotated[int, typer.Option(help="Maximum tokens in the answer.")] = 1024,
    system: Annotated[str | None, typer.Option(help="Optional system message.")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server URL (openai: specs).")
    ] = None,
    record: Annotated[
        Path | None, typer.Option(help="Append the exchange to this JSONL file (for replay:).")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Bypass the response cache.")
    ] = False,
) -> None:
    """Print one completion from a model: a smoke test that runs in seconds."""
    from selftaught.lm.catalog import ask as ask_model
    from selftaught.lm.preflight import check_model
    from selftaught.writable import check_writable_file

    try:
        if record is not None:
            check_writable_file(record, "recording file")
        check_model(model, base_url=base_url)
        sample = ask_model(
            prompt,
            model=model,
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
            base_url=base_url,
            record=record,
            cache=not no_cache,
        )
    except SelftaughtError as exc:
        _fail(exc)
        return
    typer.echo(sample.text)
    how = "from cache" if sample.cached else f"{sample.seconds:.1f} s"
    _err.print(
        f"[dim]({sample.completion_tokens} tokens, {how})[/dim]", highlight=False, soft_wrap=True
    )


def register(app: typer.Typer) -> None:
    """Attach ``models`` and ``ask`` to the root app."""
    app.command("models")(models)
    app.command("ask")(ask)
