"""The root Typer application. Each command group registers itself from its own module."""

from __future__ import annotations

import typer

from selftaught.cli import (
    compare_cmd,
    doctor_cmd,
    improve_cmd,
    lm_cmd,
    loop_cmd,
    report_cmd,
    tasks_cmd,
)
from selftaught.cli.errors import flush_stdout_quietly, guard_commands

app = typer.Typer(
    name="selftaught",
    help="STOP: a language model improves a program, then improves its own improver.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (lm_cmd, tasks_cmd, improve_cmd, loop_cmd, compare_cmd, report_cmd, doctor_cmd):
    module.register(app)
guard_commands(app)  # every command: one `error:` line instead of a traceback


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    finally:
        flush_stdout_quietly()


if __name__ == "__main__":
    main()
