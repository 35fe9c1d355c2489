"""The `Task` type: one downstream problem, its hidden instances and its answer checker.

A task lives entirely in the trusted orchestrator. Only an instance's `args` (plain JSON data) are
ever sent to a candidate's sandboxed process; the seeds, the hidden part of each instance and the
checker never leave this process.
"""

from __future__ import annotations

import random
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from selftaught.errors import ConfigError

SPLITS: tuple[str, ...] = ("val", "test")

# The reference configuration lets an improver call the downstream utility n*m + 1 times
# (n = 6 responses per call, m = 4 calls).
DEFAULT_UTILITY_BUDGET = 25

# Address space a candidate may add on top of the interpreter: ample for these inputs (the largest,
# a 200 x 200 adjacency matrix, is well under a megabyte) and for importing numpy.
MEMORY_BYTES = 512 * 1024 * 1024


class InvalidAnswer(Exception):
    """Raised by a task's grader when an answer has the wrong type, shape, length or range."""


@dataclass(frozen=True)
class Graded:
    """What a grader may return instead of a bare float: the score plus task-specific numbers.

    `extra` values (e.g. circle packing's `sum_of_radii`) are averaged over the instances that
    reported them and appear beside the score in `ScoreResult.extra` and `score --json`.
    """

    score: float
    extra: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Assessment:
    """One judged answer: its score in [0, 1], why it was rejected (None if valid), extras."""

    score: float
    problem: str | None = None
    extra: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Instance:
    """One hidden test case.

    `args` are the positional arguments of the entry function (nested tuples of JSON scalars, so
    nothing in the orchestrator can mutate them); `hidden` is what the grader needs besides the
    answer (true labels, a planted solution, normalisation bounds) and is never sent anywhere.
    """

    index: int
    args: tuple[Any, ...]
    hidden: Mapping[str, Any] = field(default_factory=dict)


Grader = Callable[[Instance, Any], "float | Graded"]
Generator = Callable[[random.Random], Instance]


@dataclass(frozen=True)
class Task:
    """A downstream task as the STOP loop sees it.

    `utility_text` is what the improver's prompt shows (a simplified scorer written for the
    language model); the real scorer is `make_instances` plus `score_answer`, run by
    `selftaught.tasks.score_program`. `time_limit_seconds` is the CPU and wall budget of one call of
    the entry function, `memory_bytes` its address-space limit.

    `driver` is optional trusted code appended to the candidate's source in the sandbox; when set,
    the sandbox calls the driver's function `call` (which in turn calls the candidate's `entry`),
    as bin packing does to run its online packing loop. `origin` says where the task came from
    ("built-in", a task file's path or an entry point) and `digest` fingerprints a task file's
    text, so that an edited file never reuses cached instances or scores. `packages` are the
    installed packages (import names) a candidate may import besides the standard library and
    numpy; the sandbox mounts exactly those (`selftaught.sandbox.importable_packages`).
    """

    name: str
    description: str
    utility_text: str
    entry: str
    signature: str
    seed_solution: str
    split_sizes: Mapping[str, int]
    time_limit_seconds: float
    memory_bytes: int
    utility_budget: int
    split_seeds: Mapping[str, int]
    generate: Callable[..., tuple[tuple[Any, ...], dict[str, Any]]]
    grade: Grader
    parallel: bool = True
    output_bytes: int = 1 << 20
    version: int = 1
    driver: str = ""
    call: str = ""
    origin: str = "built-in"
    digest: str = ""
    split_aware: bool = False
    packages: tuple[str, ...] = ()

    @property
    def identity(self) -> str:
        """The key of this task in score caches: its name, plus the file digest for plugins."""
        return self.name if not self.digest else f"{self.name}@{self.digest[:16]}"

    @property
    def sandbox_entry(self) -> str:
        """The function the sandbox calls: the driver's `call` if any, else `entry`."""
        return self.call or self.entry

    def sandbox_source(self, source: str) -> str:
        """The text run in the sandbox: the candidate's source, then the trusted driver if any."""
        if not self.driver:
            return source
        return f"{source.rstrip()}\n\n\n# --- selftaught task driver ---\n{self.driver}"

    def make_instances(self, split: str, limit: int | None = None) -> tuple[Instance, ...]:
        """The hidden instances of `split` ("val" or "test"), identical on every call.

        `limit` returns only the first `limit` instances (generating no others).
        """
        return _instances(self, check_split(split), limit)

    def score_answer(self, instance: Instance, answer: Any) -> float:
        """Score one returned answer in [0, 1]; an invalid answer scores 0."""
        return self.judge(instance, answer)[0]

    def judge(self, instance: Instance, answer: Any) -> tuple[float, str | None]:
        """Like `score_answer`, but also says why an answer was rejected (None when valid)."""
        assessment = self.assess(instance, answer)
        return assessment.score, assessment.problem

    def assess(self, instance: Instance, answer: Any) -> Assessment:
        """Like `judge`, plus the task-specific extra numbers the grader reported."""
        try:
            graded = self.grade(instance, answer)
            extra = dict(graded.extra) if isinstance(graded, Graded) else {}
            score = float(graded.score if isinstance(graded, Graded) else graded)
        except InvalidAnswer as exc:
            return Assessment(0.0, f"invalid answer: {exc}")
        except Exception as exc:  # an answer shape no validator foresaw must still score 0
            return Assessment(0.0, f"invalid answer: {type(exc).__name__}: {exc}")
        if not 0.0 <= score <= 1.0:  # a grader bug must never leak an out-of-range utility
            score = min(1.0, max(0.0, score)) if score == score else 0.0
        return Assessment(score, None, extra)

    def summary(self) -> dict[str, Any]:
        """The public facts about this task (what `selftaught tasks --json` prints)."""
        return {
            "name": self.name,
            "description": self.description,
            "entry": self.entry,
            "signature": self.signature,
            "instances": dict(self.split_sizes),
            "time_limit_seconds": self.time_limit_seconds,
            "memory_bytes": self.memory_bytes,
            "utility_budget": self.utility_budget,
            "packages": list(self.packages),
            "origin": self.origin,
        }


def load_seed(task_name: str) -> str:
    """The seed solution shipped as `selftaught/tasks/seeds/<task_name>.py` (read as text)."""
    return resources.files("selftaught.tasks.seeds").joinpath(f"{task_name}.py").read_text()


def check_split(split: str) -> str:
    """Return `split` if it names a split, else raise ConfigError."""
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    return split


_INSTANCE_CACHE: dict[tuple[str, int, str, int], Instance] = {}


def _instances(task: Task, split: str, count: int | None = None) -> tuple[Instance, ...]:
    size = task.split_sizes[split]
    count = size if count is None else max(0, min(count, size))
    return tuple(_instance(task, split, index) for index in range(count))


def _instance(task: Task, split: str, index: int) -> Instance:
    key = (task.identity, task.version, split, index)
    cached = _INSTANCE_CACHE.get(key)
    if cached is None:
        # Every instance has its own seed, so any prefix of a split can be made on its own.
        # String seeds hash deterministically (independent of PYTHONHASHSEED).
        rng = random.Random(f"{task.name}/{task.split_seeds[split]}/{index}")
        if task.split_aware:  # task files get the split too: test instances may differ in kind
            args, hidden = task.generate(rng, split, index)  # type: ignore[call-arg]
        else:
            args, hidden = task.generate(rng, index)
        cached = Instance(index, freeze(args), types.MappingProxyType(hidden))
        _INSTANCE_CACHE[key] = cached
    return cached


def freeze(value: Any) -> Any:
    """Turn nested lists into nested tuples so that instance data cannot be mutated."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value
