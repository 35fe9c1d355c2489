"""Writing to stdout so that what lands in a pipe or a file is exactly the data.

Program text goes out byte for byte, never through rich (which wraps at the console's width and
styles what it recognises). Tables go through `stdout_console`, which in a terminal fits the
terminal and elsewhere is wide enough that no cell is wrapped or cut.
"""

from __future__ import annotations

import sys

from rich.console import Console

#: Width of tables written to a pipe or a file: no row is wrapped there.
PIPE_WIDTH = 400


def stdout_console() -> Console:
    """A console for stdout: the terminal's width there, `PIPE_WIDTH` columns and no styling
    elsewhere."""
    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(width=PIPE_WIDTH, no_color=True, highlight=False, soft_wrap=False)


def write_program(text: str) -> None:
    """Write a program to stdout exactly as it is (ending in one newline)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
