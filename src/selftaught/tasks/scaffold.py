"""`new_task_file`: write a commented, working task file (`selftaught new-task`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from selftaught.errors import ConfigError
from selftaught.tasks.plugin import NAME_PATTERN


def render_task_file(name: str, file: str | None = None) -> str:
    """The text of a new task file for a task called `name` (a working 0/1 knapsack example)."""
    check_task_name(name)
    template = resources.files("selftaught.tasks.templates").joinpath("task_file.py").read_text()
    return template.replace("__NAME__", name).replace("__FILE__", file or f"{name}.py")


def check_task_name(name: str) -> str:
    """Return `name` if it is a valid task name, else raise ConfigError."""
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"invalid task name {name!r}: start with a letter, then letters, digits, _ or -"
        )
    return name


def new_task_file(name: str, out: str | Path | None = None, *, force: bool = False) -> Path:
    """Write a new task file (default `./NAME.py`) and return its path.

    Refuses to overwrite an existing file unless `force` is true.
    """
    path = Path(out) if out is not None else Path(f"{check_task_name(name)}.py")
    if path.is_dir():
        path = path / f"{check_task_name(name)}.py"
    if path.suffix != ".py":
        raise ConfigError(f"{path}: a task file must end in .py")
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    text = render_task_file(name, str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
