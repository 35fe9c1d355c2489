"""The improver library: names of the shipped improvers, their files and one-line descriptions.

The improvers themselves are plain source files (data sent to the sandbox); this module only reads
them as text and never imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from selftaught.errors import ConfigError


@dataclass(frozen=True)
class ImproverInfo:
    """One shipped improver: its name, its file in this package and what it does."""

    name: str
    filename: str
    description: str

    def source(self) -> str:
        """The improver's source text."""
        return resources.files("selftaught.improvers").joinpath(self.filename).read_text()


#: `improve`'s improver unless another is named: the strongest by `bench/bench_efficacy.py`
#: (docs/efficacy.md). `run` starts from the paper's seed improver (`RunConfig.initial_improver`).
DEFAULT_IMPROVER = "refine"

_ENTRIES = (
    ("seed", "The paper's seed: one batch of rewrites, return the best-scoring one."),
    ("beam", "Beam search over rewrites with a utility cache."),
    ("genetic", "Genetic algorithm; the LM performs mutation and crossover."),
    ("annealing", "Simulated annealing with decaying acceptance and sampling temperature."),
    ("bandit", "UCB1 multi-armed bandit over prompt variants."),
    ("temperature_sweep", "Sweep the sampling temperature, then exploit the best one."),
    ("decompose", "Split into functions and improve one part at a time."),
    ("self_debug", "Feed each failure's error message back to the LM for repair."),
    ("diff_edits", "SEARCH/REPLACE edits applied tolerantly to the best program so far."),
    ("refine", "Hill-climb with one concrete tactic per sample, then tune the constants."),
    ("evolve", "Program database with islands, a MAP-Elites grid, inspirations and repairs."),
)

IMPROVERS: dict[str, ImproverInfo] = {
    name: ImproverInfo(name, f"{name}.py", description) for name, description in _ENTRIES
}


def list_improvers() -> list[ImproverInfo]:
    """Every shipped improver, the seed first."""
    return list(IMPROVERS.values())


def get_improver(name: str) -> ImproverInfo:
    """The shipped improver called `name`; ConfigError naming the valid ones otherwise."""
    try:
        return IMPROVERS[name]
    except KeyError:
        valid = ", ".join(IMPROVERS)
        message = f"unknown improver {name!r}; valid: {valid}, or a path to a .py file"
        raise ConfigError(message) from None


def resolve_improver(spec: str) -> tuple[str, str]:
    """(display name, source) for a shipped improver's name or a path to an improver file."""
    if spec in IMPROVERS:
        return spec, IMPROVERS[spec].source()
    path = Path(spec)
    if spec.endswith(".py") or path.exists():
        if not path.is_file():
            raise ConfigError(f"improver file not found: {spec}")
        return path.stem, path.read_text()
    get_improver(spec)  # raises the error listing the valid names
    raise AssertionError("unreachable")
