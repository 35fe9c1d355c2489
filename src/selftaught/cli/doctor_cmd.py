"""`selftaught doctor [--json]`: which sandbox isolation layers are active on this machine."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.console import Console
from rich.table import Table


def doctor_command(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
) -> None:
    """Report every sandbox isolation layer: active or not, and why."""
    from selftaught.sandbox import doctor

    layers = doctor()
    if as_json:
        typer.echo(json.dumps([asdict(layer) for layer in layers], indent=2))
        return
    table = Table(title="selftaught sandbox layers")
    table.add_column("layer")
    table.add_column("active")
    table.add_column("detail")
    for layer in layers:
        mark = "[green]yes[/green]" if layer.active else "[red]NO[/red]"
        table.add_row(layer.name, mark, layer.detail)
    console = Console()
    console.print(table)
    missing = [layer.name for layer in layers if not layer.active]
    if missing:
        console.print(f"[yellow]missing layers: {', '.join(missing)}; the sandbox falls back.[/]")
    else:
        console.print("[green]all layers active[/green]")


def register(app: typer.Typer) -> None:
    """Attach `doctor` to the root app."""
    app.command("doctor")(doctor_command)
