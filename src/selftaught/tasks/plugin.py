"""Task files: a user's own task as a plain Python file of module-level names.

A task file is trusted code (the user's, like a test suite), so it is imported in the orchestrator;
only candidate programs run in the sandbox. It defines:

    NAME, DESCRIPTION, SIGNATURE, SEED (or SEED_FILE), UTILITY_TEXT     required strings
    make_instance(rng, split, index) -> (args, hidden)                  required function
    score(instance, answer) -> float in [0, 1] (or Graded)              required function
    ENTRY = "algorithm", SPLIT_SIZES = {"val": 20, "test": 50},         optional, with defaults
    TIME_LIMIT_SECONDS = 2.0, MEMORY_MB = 512, UTILITY_BUDGET = 25,
    SPLIT_SEEDS = {"val": 1, "test": 2}, PARALLEL = True, DRIVER, DRIVER_ENTRY,
    PACKAGES = []  (extra installed packages candidates may import, e.g. ["scipy"])

or, for full control, `TASK = Task(...)`. Every problem is a ConfigError naming the file, the
line (where there is one) and what is wrong or missing.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import hashlib
import importlib.util
import inspect
import re
import sys
import types
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from selftaught.errors import ConfigError
from selftaught.sandbox.packages import package_problem
from selftaught.tasks.base import (
    DEFAULT_UTILITY_BUDGET,
    SPLITS,
    Task,
)
from selftaught.tasks.plugin_calls import generator, grader, line_in, show
from selftaught.tasks.precheck import precheck

REQUIRED = {
    "NAME": "a short name such as 'knapsack' (letters, digits, '_' or '-')",
    "DESCRIPTION": "one sentence saying what the task is",
    "SIGNATURE": "the entry function's signature, e.g. 'algorithm(items) -> list[int]'",
    "UTILITY_TEXT": "the utility the language model sees: Python source of `def utility(...)`",
}
FUNCTIONS = {
    "make_instance": ("rng", "split", "index"),
    "score": ("instance", "answer"),
}
OPTIONAL = {
    "ENTRY",
    "SEED",
    "SEED_FILE",
    "SPLIT_SIZES",
    "SPLIT_SEEDS",
    "TIME_LIMIT_SECONDS",
    "MEMORY_MB",
    "UTILITY_BUDGET",
    "PARALLEL",
    "DRIVER",
    "DRIVER_ENTRY",
    "PACKAGES",
    "TASK",
}
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
DEFAULT_TIME_LIMIT = 2.0
DEFAULT_MEMORY_MB = 512


def is_task_path(name_or_path: str) -> bool:
    """True when `--task` names a file rather than a registered task."""
    return name_or_path.endswith(".py") or "/" in name_or_path or "\\" in name_or_path


def load_task_file(path: str | Path, *, reserved: Collection[str] = ()) -> Task:
    """Import the task file at `path` and build its `Task` (ConfigError on any problem).

    `reserved` are names the task may not take (the built-in tasks').
    """
    path = Path(path).expanduser()
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise ConfigError(f"task file {path} {what}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read task file {path}: {exc}") from None
    path = path.resolve()
    lines = _definition_lines(path, text)
    module = _import(path, text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return task_from_namespace(vars(module), str(path), lines, digest, reserved)


def task_from_module(
    module: types.ModuleType, origin: str, *, reserved: Collection[str] = ()
) -> Task:
    """Build the task of an already imported module (entry-point plugins)."""
    file = getattr(module, "__file__", None)
    lines: dict[str, int] = {}
    digest = ""
    if file and Path(file).is_file():
        text = Path(file).read_text(encoding="utf-8")
        lines = _definition_lines(Path(file), text)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return task_from_namespace(vars(module), file or origin, lines, digest, reserved)


def _definition_lines(path: Path, text: str) -> dict[str, int]:
    """The line of each top-level name's (last) definition; syntax errors become ConfigError."""
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: syntax error in task file: {exc.msg}") from None
    lines: dict[str, int] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            lines[node.name] = node.lineno
        for target in targets:
            if isinstance(target, ast.Name):
                lines[target.id] = node.lineno
    return lines


def _import(path: Path, text: str) -> types.ModuleType:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    module_name = f"selftaught_task_{path.stem.replace('-', '_')}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"task file {path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling inside the file need this
    sys.path.insert(0, str(path.parent))  # so the file can import its sibling helper modules
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        line = line_in(exc, path)
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(
            f"{where}: the task file raised {type(exc).__name__} while loading: {exc}"
        ) from None
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(path.parent))
    return module


def task_from_namespace(
    ns: Mapping[str, Any],
    origin: str,
    lines: Mapping[str, int],
    digest: str,
    reserved: Collection[str] = (),
) -> Task:
    """Build a Task from a task file's module-level names (see the module docstring)."""
    reader = _Reader(ns, origin, lines)
    if "TASK" in ns:
        task = ns["TASK"]
        if not isinstance(task, Task):
            reader.fail("TASK", f"TASK must be a selftaught.tasks.Task, got {type(task).__name__}")
        if task.name in reserved:
            reader.fail(
                "TASK", f"the task's name {task.name!r} is a built-in task's; choose another"
            )
        packages = reader.packages("TASK", task.packages)
        return replace(task, origin=origin, digest=digest, packages=packages)
    reader.check_unknown_names()
    reader.check_required()
    name = reader.text("NAME")
    if not NAME_PATTERN.fullmatch(name):
        reader.fail(
            "NAME", f"NAME {name!r} must start with a letter and use letters, digits, _ or -"
        )
    if name in reserved:
        reader.fail("NAME", f"NAME {name!r} is a built-in task's name; choose another")
    entry = reader.text("ENTRY", "algorithm")
    if not entry.isidentifier():
        reader.fail("ENTRY", f"ENTRY {entry!r} is not a Python function name")
    make_instance = reader.function("make_instance")
    score = reader.function("score")
    seed = reader.seed(entry)
    driver = reader.text("DRIVER", "")
    call = reader.text("DRIVER_ENTRY", "")
    if bool(driver) != bool(call):
        reader.fail("DRIVER" if driver else "DRIVER_ENTRY", "DRIVER and DRIVER_ENTRY go together")
    return Task(
        name=name,
        description=reader.text("DESCRIPTION"),
        utility_text=reader.text("UTILITY_TEXT"),
        entry=entry,
        signature=reader.text("SIGNATURE"),
        seed_solution=seed,
        split_sizes=reader.per_split("SPLIT_SIZES", {"val": 20, "test": 50}, minimum=1),
        time_limit_seconds=reader.number("TIME_LIMIT_SECONDS", DEFAULT_TIME_LIMIT),
        memory_bytes=int(reader.number("MEMORY_MB", DEFAULT_MEMORY_MB) * 1024 * 1024),
        utility_budget=int(reader.number("UTILITY_BUDGET", DEFAULT_UTILITY_BUDGET, whole=True)),
        split_seeds=reader.split_seeds(),
        generate=generator(make_instance, origin, lines.get("make_instance")),
        grade=grader(score, origin, lines.get("score")),
        parallel=bool(ns.get("PARALLEL", True)),
        driver=driver,
        call=call,
        origin=origin,
        digest=digest,
        split_aware=True,
        packages=reader.packages("PACKAGES", ns.get("PACKAGES", ())),
    )


class _Reader:
    """Reads and checks one task file's names, failing with file:line: what."""

    def __init__(self, ns: Mapping[str, Any], origin: str, lines: Mapping[str, int]) -> None:
        self.ns, self.origin, self.lines = ns, origin, lines

    def fail(self, name: str, message: str) -> NoReturn:
        line = self.lines.get(name)
        where = f"{self.origin}:{line}" if line else self.origin
        raise ConfigError(f"{where}: {message}")

    def missing(self, name: str, what: str) -> NoReturn:
        raise ConfigError(
            f"{self.origin}: missing {name} ({what}); no line of the task file defines it"
        )

    def check_required(self) -> None:
        """Name every missing required definition at once, in the documented order."""
        wanted = {
            **REQUIRED,
            "SEED": "the seed solution's source, or SEED_FILE = 'seed.py'",
            **{f: f"a function `def {f}({', '.join(p)})`" for f, p in FUNCTIONS.items()},
        }
        absent = [
            n for n in wanted if n not in self.ns and not (n == "SEED" and "SEED_FILE" in self.ns)
        ]
        if len(absent) == 1:
            self.missing(absent[0], wanted[absent[0]])
        if absent:
            listed = "; ".join(f"{n} ({wanted[n]})" for n in absent)
            raise ConfigError(
                f"{self.origin}: missing {listed}; no line of the task file defines them"
            )

    def check_unknown_names(self) -> None:
        known = set(REQUIRED) | OPTIONAL
        for name in self.ns:
            if name.isupper() and name not in known and len(name) > 2:
                close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.7)
                if close and close[0] not in self.ns:
                    self.fail(name, f"unknown setting {name}; did you mean {close[0]}?")

    def text(self, name: str, default: str | None = None) -> str:
        if name not in self.ns:
            if default is None:
                self.missing(name, REQUIRED[name])
            return default or ""
        value = self.ns[name]
        if not isinstance(value, str) or (default is None and not value.strip()):
            self.fail(name, f"{name} must be a non-empty string, got {show(value)}")
        return value

    def number(self, name: str, default: float, *, whole: bool = False) -> float:
        value = self.ns.get(name, default)
        kind = "a positive whole number" if whole else "a positive number"
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        if not ok or (whole and not float(value).is_integer()):
            self.fail(name, f"{name} must be {kind}, got {show(value)}")
        return float(value)

    def per_split(self, name: str, default: dict[str, int], *, minimum: int) -> dict[str, int]:
        value = self.ns.get(name, default)
        good = isinstance(value, Mapping) and set(value) == set(SPLITS)
        good = good and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in value.values()
        )
        if not good:
            example = ", ".join(f'"{s}": {default[s]}' for s in SPLITS)
            self.fail(name, f"{name} must be {{{example}}} (integers >= {minimum}), got {value!r}")
        return {split: int(value[split]) for split in SPLITS}

    def split_seeds(self) -> dict[str, int]:
        seeds = self.per_split("SPLIT_SEEDS", {"val": 1, "test": 2}, minimum=0)
        if len(set(seeds.values())) < len(seeds):
            self.fail("SPLIT_SEEDS", "SPLIT_SEEDS must differ, or val and test would be the same")
        return seeds

    def packages(self, name: str, value: Any) -> tuple[str, ...]:
        """Declared packages: a list of import names installed in this environment."""
        if isinstance(value, str) or not isinstance(value, list | tuple):
            self.fail(name, f"PACKAGES must be a list of import names such as ['scipy'], got "
                            f"{show(value)}")  # fmt: skip
        for package in value:
            problem = package_problem(package)
            if problem is not None:
                self.fail(name, f"PACKAGES: {problem}")
        return tuple(dict.fromkeys(value))

    def function(self, name: str) -> Callable[..., Any]:
        params = FUNCTIONS[name]
        if name not in self.ns:
            self.missing(name, f"a function `def {name}({', '.join(params)})`")
        func = self.ns[name]
        if not callable(func):
            self.fail(name, f"{name} must be a function, got {show(func)}")
        try:
            inspect.signature(func).bind(*params)
        except TypeError:
            self.fail(
                name, f"{name} must take {len(params)} arguments: {name}({', '.join(params)})"
            )
        except ValueError:  # builtins without a signature: let the call decide
            pass
        return func  # type: ignore[no-any-return]

    def seed(self, entry: str) -> str:
        if "SEED" in self.ns and "SEED_FILE" in self.ns:
            self.fail("SEED_FILE", "define SEED or SEED_FILE, not both")
        if "SEED_FILE" in self.ns:
            seed_path = Path(self.text("SEED_FILE"))
            if not seed_path.is_absolute():
                seed_path = Path(self.origin).parent / seed_path
            try:
                source = seed_path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                self.fail("SEED_FILE", f"cannot read the seed solution {seed_path}: {exc}")
            name = "SEED_FILE"
        elif "SEED" in self.ns:
            source, name = self.text("SEED"), "SEED"
        else:
            self.missing("SEED", "the seed solution's source, or SEED_FILE = 'seed.py'")
        problem = precheck(source, entry)
        if problem is not None:
            self.fail(name, f"the seed solution is unusable: {problem}")
        return source
