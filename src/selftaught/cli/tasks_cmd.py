"""`selftaught tasks`, `seed`, `score` and `new-task`: thin wrappers over `selftaught.tasks`."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from selftaught.cli.output import stdout_console
from selftaught.errors import ConfigError, SelftaughtError

USAGE_ERROR = 2

TASK_HELP = "Task name (see `selftaught tasks`) or a task file: path/to/task.py."


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)  # one unwrapped line, whatever the terminal width
    return typer.Exit(USAGE_ERROR)


def tasks_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the tasks: name, description, entry signature and instances per split."""
    from selftaught.tasks import list_tasks

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summaries = [task.summary() for task in list_tasks()]
    for warning in caught:  # a broken plugin must not hide the other tasks
        typer.echo(f"warning: {warning.message}", err=True)
    if as_json:
        typer.echo(json.dumps(summaries, indent=2))
        return
    console = stdout_console()
    for s in summaries:
        sizes = ", ".join(f"{split} {n}" for split, n in s["instances"].items())
        plugin = "" if s["origin"] == "built-in" else f"  [{s['origin']}]"
        console.print(Text.assemble((s["name"], "bold cyan"), "  ", s["signature"], plugin))
        console.print(
            Text(
                f"    {s['description']}\n    instances: {sizes}; {s['time_limit_seconds']:g} s"
                " per instance\n"
            )
        )


def seed_command(
    task: Annotated[str, typer.Option("--task", help=TASK_HELP)],
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
    task: Annotated[str, typer.Option("--task", help=TASK_HELP)],
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
    console = stdout_console()
    console.print(
        f"[bold]{result.task}[/bold] {result.split}: score [{colour}]{result.score:.4f}[/{colour}]"
        f" on {result.instances} instances in {result.seconds:.2f} s"
    )
    for name, value in result.extra.items():
        console.print(f"  {escape(name)}: {value:.6g}")
    if result.error is not None:
        console.print(f"[yellow]error:[/yellow] {escape(result.error)}")


def new_task_command(
    name: Annotated[str, typer.Argument(help="The new task's name (letters, digits, _ or -).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write it (default: ./NAME.py).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented task file that works at once (a 0/1 knapsack example to edit)."""
    from selftaught.tasks.scaffold import new_task_file

    try:
        path = new_task_file(name, out, force=force)
    except SelftaughtError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {path}")
    typer.echo("try it:")
    typer.echo(f"  selftaught seed --task {path} > seed.py")
    typer.echo(f"  selftaught score seed.py --task {path}")
    typer.echo(f"  selftaught improve seed.py --task {path}")


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
    """Attach `tasks`, `seed`, `score` and `new-task` to the root app."""
    app.command("tasks")(tasks_command)
    app.command("seed")(seed_command)
    app.command("score")(score_command)
    app.command("new-task")(new_task_command)
