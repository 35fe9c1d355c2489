"""`selftaught tasks`, `seed` and `score`: thin wrappers over `selftaught.tasks`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from selftaught.errors import ConfigError, SelftaughtError

USAGE_ERROR = 2


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)  # one unwrapped line, whatever the terminal width
    return typer.Exit(USAGE_ERROR)


def tasks_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the tasks: name, description, entry signature and instances per split."""
    from selftaught.tasks import list_tasks

    summaries = [task.summary() for task in list_tasks()]
    if as_json:
        typer.echo(json.dumps(summaries, indent=2))
        return
    console = Console(highlight=False)
    for s in summaries:
        sizes = ", ".join(f"{split} {n}" for split, n in s["instances"].items())
        console.print(Text.assemble((s["name"], "bold cyan"), "  ", s["signature"]))
        console.print(
            Text(
                f"    {s['description']}\n    instances: {sizes}; {s['time_limit_seconds']:g} s"
                " per instance\n"
            )
        )


def seed_command(
    task: Annotated[str, typer.Option("--task", help="Task name (see `selftaught tasks`).")],
) -> None:
    """Print a task's seed solution (the program STOP starts from)."""
    from selftaught.tasks import get_task

    try:
        source = get_task(task).seed_solution
    except SelftaughtError as exc:
        raise _fail(str(exc)) from None
    sys.stdout.write(source if source.endswith("\n") else source + "\n")


def score_command(
    file: Annotated[Path, typer.Argument(help="Python file defining the task's entry function.")],
    task: Annotated[str, typer.Option("--task", help="Task name (see `selftaught tasks`).")],
    split: Annotated[str, typer.Option("--split", help="val or test.")] = "val",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score a program on a task's hidden instances, each run in the sandbox."""
    from selftaught.tasks import get_task, score_program

    try:
        chosen = get_task(task)
        source = read_source(file)
        result = score_program(chosen, source, split)
    except SelftaughtError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result.to_json()))
        return
    colour = "green" if result.error is None else "yellow"
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"[bold]{result.task}[/bold] {result.split}: score [{colour}]{result.score:.4f}[/{colour}]"
        f" on {result.instances} instances in {result.seconds:.2f} s"
    )
    if result.error is not None:
        console.print(f"[yellow]error:[/yellow] {escape(result.error)}")


def read_source(path: Path) -> str:
    """Read a program file as UTF-8 text, raising ConfigError with the reason otherwise."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a directory, not a Python file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def register(app: typer.Typer) -> None:
    """Attach `tasks`, `seed` and `score` to the root app."""
    app.command("tasks")(tasks_command)
    app.command("seed")(seed_command)
    app.command("score")(score_command)
