"""`selftaught doctor [--json] [--executor ray] [--task T]`: which sandbox isolation layers are
active, on this machine or on every node of a Ray cluster, and which packages candidates can
import (numpy for every task, plus a task's declared PACKAGES with `--task`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from selftaught.cli.output import stdout_console
from selftaught.config import EXECUTORS
from selftaught.core.context import NodeLayers
from selftaught.errors import SelftaughtError
from selftaught.sandbox.doctor import PackageStatus, package_statuses


def _table(title: str, layers: list[tuple[str, bool, str]]) -> Table:
    table = Table(title=title)
    table.add_column("layer")
    table.add_column("active")
    table.add_column("detail")
    for name, active, detail in layers:
        table.add_row(name, "[green]yes[/green]" if active else "[red]NO[/red]", detail)
    return table


def _verdict(console: Console, missing: list[str]) -> None:
    if missing:
        console.print(f"[yellow]missing layers: {', '.join(missing)}; the sandbox falls back.[/]")
    else:
        console.print("[green]all layers active[/green]")


def _nodes_doctor(nodes: list[NodeLayers], as_json: bool) -> None:
    """The layers of every node an executor runs sessions on (its workers report them)."""
    if as_json:
        payload = [
            {"node": node, "layers": [{"name": n, "active": a, "detail": d} for n, a, d in layers]}
            for node, layers in nodes
        ]
        typer.echo(json.dumps(payload, indent=2))
        return
    console = stdout_console()
    for node, layers in nodes:
        console.print(_table(f"sandbox layers on Ray node {node}", list(layers)))
        _verdict(console, [name for name, active, _ in layers if not active])


def _executor_nodes(name: str) -> list[NodeLayers] | None:
    """What the executor's nodes report (None: sessions run here); ConfigError/SelftaughtError
    when the executor cannot start."""
    from selftaught.execute import make_executor

    executor = make_executor(name)
    try:
        return executor.node_layers()
    finally:
        executor.close()


def doctor_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            help="local: this machine; ray: every node of the Ray cluster (RAY_ADDRESS, else a "
            "local instance), probed by a task pinned to each node.",
        ),
    ] = "local",
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="Also list the packages this task's candidates can import (a task name or "
            "file), each probed by an import inside the sandbox.",
        ),
    ] = None,
) -> None:
    """Report every sandbox isolation layer (active or not, and why) and the importable packages."""
    from selftaught.sandbox import doctor

    if executor not in EXECUTORS:
        valid = ", ".join(EXECUTORS)
        typer.echo(f"error: unknown executor {executor!r}; valid: {valid}", err=True)
        raise typer.Exit(2)
    try:
        nodes = _executor_nodes(executor)
    except SelftaughtError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if nodes is not None:
        _nodes_doctor(nodes, as_json)
        return
    name, extra = _task_packages(task)
    layers = doctor()
    packages = package_statuses(extra)
    if as_json:
        listed = [asdict(layer) for layer in layers]
        if task is None:  # the documented shape: a list of layers
            typer.echo(json.dumps(listed, indent=2))
        else:
            found = [asdict(package) for package in packages]
            typer.echo(json.dumps({"task": name, "packages": found, "layers": listed}, indent=2))
        return
    console = stdout_console()
    console.print(
        _table("selftaught sandbox layers", [(la.name, la.active, la.detail) for la in layers])
    )
    _verdict(console, [layer.name for layer in layers if not layer.active])
    _print_packages(console, name, packages)


def _task_packages(task: str | None) -> tuple[str | None, tuple[str, ...]]:
    """(task name, its declared packages); a bad task is one `error:` line."""
    if task is None:
        return None, ()
    from selftaught.tasks import get_task

    try:
        found = get_task(task)
    except SelftaughtError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    return found.name, found.packages


def _print_packages(console: Console, task: str | None, packages: list[PackageStatus]) -> None:
    title = "importable by candidates (besides the standard library)"
    title += f" of task {task}" if task else " of every task"
    table = Table(title=title)
    for column in ("package", "importable", "version or error"):
        table.add_column(column)
    for package in packages:
        mark = "[green]yes[/green]" if package.importable else "[red]NO[/red]"
        table.add_row(package.name, mark, package.detail)
    console.print(table)
    if task is None:
        console.print("a task file adds its PACKAGES; see them with `selftaught doctor --task T`")


def register(app: typer.Typer) -> None:
    """Attach `doctor` to the root app."""
    app.command("doctor")(doctor_command)
