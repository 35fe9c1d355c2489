"""The command line's error boundary: whatever goes wrong, the user sees one `error:` line.

Every command is wrapped by `guard_commands`. Bad input (`SelftaughtError`) exits with
`USAGE_ERROR`; a machine that refuses (a full disk, a read-only or unwritable path, a name that is
too long, a damaged database) exits with `ENVIRONMENT_ERROR`. Programming errors are not caught:
they must stay visible as tracebacks.
"""

from __future__ import annotations

import errno
import functools
import os
import sqlite3
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import typer

from selftaught.errors import SelftaughtError

USAGE_ERROR = 2
ENVIRONMENT_ERROR = 1
INTERRUPTED = 130

_DISK_FULL = "no space left on device"
_KEEP_GOING = "free some space, then run the same command again: finished work is kept"


def fail(message: str, code: int = USAGE_ERROR) -> typer.Exit:
    """Print `error: message` on stderr and return the Exit to raise."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return typer.Exit(code)


def describe_os_error(exc: OSError) -> str:
    """One line naming the file and the reason (and what to do when the disk is full)."""
    where = exc.filename if exc.filename is not None else None
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return f"{_DISK_FULL} while writing {where}; {_KEEP_GOING}" if where else _DISK_FULL
    if exc.errno == errno.ENAMETOOLONG:
        return f"path too long: {where}" if where else "path too long"
    return f"{where}: {reason}" if where else reason


def describe_db_error(exc: sqlite3.Error) -> str:
    """One line for an SQLite failure that no store wrapped (full disk, damaged file)."""
    text = str(exc)
    if "disk is full" in text:
        return f"{_DISK_FULL} (database write failed); {_KEEP_GOING}"
    if "not a database" in text or "malformed" in text:
        return f"a run database is damaged ({text}); restore it or start a new run"
    return f"database error: {text}"


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _quiet_broken_pipe() -> NoReturn:
    """The reader of our stdout went away (`| head`): stop without a traceback."""
    _silence_stdout()
    raise typer.Exit(ENVIRONMENT_ERROR)


def flush_stdout_quietly() -> None:
    """Flush stdout at exit; a reader that went away is not an error worth a traceback."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command` with every expected failure turned into one `error:` line."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SelftaughtError as exc:
            raise fail(str(exc)) from None
        except BrokenPipeError:
            _quiet_broken_pipe()
        except OSError as exc:
            raise fail(describe_os_error(exc), ENVIRONMENT_ERROR) from None
        except sqlite3.Error as exc:
            raise fail(describe_db_error(exc), ENVIRONMENT_ERROR) from None
        except KeyboardInterrupt:
            raise fail("interrupted", INTERRUPTED) from None

    return wrapper


def guard_commands(app: typer.Typer) -> None:
    """Wrap every registered command of `app` in the error boundary."""
    for info in app.registered_commands:
        if info.callback is not None:
            info.callback = guarded(info.callback)
