"""Wrappers around a task file's own functions: checked results, errors that name the file's line.

`make_instance` problems are the task author's to fix, so they raise ConfigError with the file and
line; `score` problems score the answer 0 (InvalidAnswer) with a reason that names the line.
"""

from __future__ import annotations

import json
import random
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from selftaught.errors import ConfigError
from selftaught.tasks.base import Graded, Instance, InvalidAnswer


def line_in(exc: BaseException, path: Path | str) -> int | None:
    """The deepest traceback line of `exc` that lies in the file `path`."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == Path(path):
            line = frame.lineno
    if line is None and isinstance(exc, SyntaxError) and exc.filename == str(path):
        line = exc.lineno
    return line


def generator(make_instance: Callable[..., Any], origin: str, line: int | None) -> Any:
    where = f"{origin}:{line}" if line else origin

    def generate(
        rng: random.Random, split: str, index: int
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        try:
            made = make_instance(rng, split, index)
        except Exception as exc:
            at = line_in(exc, origin)
            raise ConfigError(
                f"{origin}:{at or line}: make_instance({split!r}, index {index}) raised "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if not (isinstance(made, tuple | list) and len(made) == 2):
            raise ConfigError(
                f"{where}: make_instance must return a pair (args, hidden), got {show(made)}"
            )
        args, hidden = made
        if not isinstance(args, tuple | list):
            raise ConfigError(
                f"{where}: make_instance's args must be a tuple or list of the entry function's"
                f" arguments, got {show(args)}"
            )
        if not isinstance(hidden, Mapping):
            raise ConfigError(f"{where}: make_instance's hidden must be a dict, got {show(hidden)}")
        try:
            json.dumps(list(args), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{where}: make_instance's args must be plain JSON data (lists, dicts, str, int,"
                f" float, bool, None): {exc}"
            ) from None
        return tuple(args), dict(hidden)

    return generate


def grader(score: Callable[..., Any], origin: str, line: int | None) -> Any:
    where = f"{origin}:{line}" if line else origin

    def grade(instance: Instance, answer: Any) -> float | Graded:
        try:
            value = score(instance, answer)
        except InvalidAnswer:
            raise
        except Exception as exc:
            at = line_in(exc, origin) or line
            raise InvalidAnswer(
                f"score() at {origin}:{at} raised {type(exc).__name__}: {exc}"
            ) from None
        if isinstance(value, Graded):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidAnswer(
                f"score() at {where} returned {show(value)}; it must return a number in [0, 1]"
            )
        return float(value)

    return grade


def show(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(value).__name__})"
