"""The run configuration: a frozen dataclass, loadable from TOML, saved in every run directory.

Defaults are scaled down so that `make run` finishes on a 2-core CPU machine within 30 minutes
with the embedded 1.5B model. `RunConfig.paper()` gives the reference budgets of the paper.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from selftaught.errors import ConfigError, ConfigMismatch
from selftaught.lm.backends import backend_kind
from selftaught.store.layout import CONFIG_NAME

EXECUTORS = ("local", "ray")
#: How replies are decoded: "code" starts every reply inside a Python code block (an assistant
#: prefix), "plain" is the paper's free-form sampling, "auto" is "code" for local models and
#: "plain" for OpenAI-compatible servers (which may not continue a given assistant turn).
DECODINGS = ("auto", "code", "plain")
#: The assistant prefix of "code" decoding: the reply begins inside a fenced Python block.
CODE_PREFIX = "```python\n"
#: Options that change where and how fast a run goes, never its results: a run may be resumed
#: with other values.
EXECUTION_FIELDS = frozenset({"executor"})
#: Options a stored run may grow: a larger value only adds steps after the stored ones (more
#: iterations T, which is also a tree search's step count, or a larger meta-utility budget for
#: the steps still to come), so continuing with it changes no stored result.
EXTENDABLE_FIELDS = ("iterations", "meta_utility_budget")
#: Keys of a `--config` file that say how the model is reached (read by the CLI into an
#: `lm.ModelAccess`), not what a run computes: they are not RunConfig fields and not stored.
ACCESS_KEYS = frozenset({"base_url", "max_concurrency", "cache", "record", "prices"})

DEFAULT_TRANSFER_TASKS = (
    "str_grid_dist",
    "quadratic_assignment",
    "three_sat",
    "maxcut",
    "parity_noiseless",
)

#: The paper's budgets (`--paper-budgets`): T=6, R=5, 4 LM calls of 6 responses of 1,024 tokens.
PAPER_BUDGETS: dict[str, int] = {
    "iterations": 6,
    "runs": 5,
    "lm_budget": 4,
    "meta_lm_budget": 4,
    "max_responses_per_call": 6,
    "max_tokens": 1024,
    "meta_max_tokens": 1024,
    "meta_utility_budget": 25,
}


def _continues_prefix(model: str) -> bool:
    """Whether the model's backend can continue a given assistant turn (servers may not)."""
    kind = backend_kind(model)
    return kind is None or kind.continues_prefix


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a STOP run's result (besides the model's weights)."""

    task: str = "parity_noise"  # the meta-training task
    iterations: int = 2  # T: self-improvement steps
    runs: int = 2  # R: improver runs averaged by the meta-utility
    model: str = "embedded"
    seed: int = 0  # shifts every sample index, so another seed draws other samples
    paper_mode: bool = False  # adopt any candidate scoring above zero (no gate)
    lm_budget: int = 2  # LM calls per downstream improver run (a second lets a step ask again)
    meta_lm_budget: int = 2  # LM calls of the improver improving itself (as many as downstream)
    max_responses_per_call: int = 4
    max_tokens: int = 768  # per response, downstream runs (512 truncated most 1.5B answers)
    meta_max_tokens: int = 768  # per response when the improver rewrites itself
    utility_budget: int = 0  # downstream utility calls per run; 0 = the task's own budget
    # meta-utility calls per self-improvement step: 4 candidates, and 2 for an improver that
    # scores its input and its best candidate again (one that keeps its input does)
    meta_utility_budget: int = 6
    improver_seconds: float = 900.0  # wall limit of one downstream improver session
    meta_improver_seconds: float = 7200.0  # wall limit of one self-improvement session
    batch_window_seconds: float = 1.0  # how long concurrent runs wait to share a batch
    executor: str = "local"  # where sessions and evaluations run: local | ray (same results)
    transfer_tasks: tuple[str, ...] = DEFAULT_TRANSFER_TASKS
    decoding: str = "auto"  # auto | code | plain (see DECODINGS); --paper-mode means plain
    guidance: bool = True  # the runtime contract in utility texts; feedback for the meta level
    initial_improver: str = "seed"  # I_0: a shipped improver's name or an improver file's path
    meta_continue: bool = True  # the meta level's replies continue the parent before its return
    meta_step_families: bool = True  # continued meta replies each open a strategy family's step
    meta_utility_code: bool = True  # show the meta-utility's code (False: its docstring only)
    samples: int = 0  # `improve`: LM samples of its run (0: lm_budget x max_responses_per_call)

    def __post_init__(self) -> None:
        for name in ("iterations", "runs", "lm_budget", "meta_lm_budget"):
            if getattr(self, name) < (0 if name == "iterations" else 1):
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("max_responses_per_call", "max_tokens", "meta_max_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.utility_budget < 0 or self.meta_utility_budget < 1:
            raise ConfigError("utility budgets must be positive (utility_budget 0 = task default)")
        if self.samples < 0:
            raise ConfigError(f"samples must be >= 0, got {self.samples}")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")
        if self.improver_seconds <= 0 or self.meta_improver_seconds <= 0:
            raise ConfigError("session wall limits must be positive")
        if self.decoding not in DECODINGS:
            raise ConfigError(f"unknown decoding {self.decoding!r}; valid: {', '.join(DECODINGS)}")
        if self.executor not in EXECUTORS:
            raise ConfigError(f"unknown executor {self.executor!r}; valid: {', '.join(EXECUTORS)}")
        object.__setattr__(self, "transfer_tasks", tuple(self.transfer_tasks))

    @classmethod
    def paper(cls, **overrides: Any) -> RunConfig:
        """The reference budgets: T=6, R=5 runs, LM budget 4 calls, 6 responses, 1024 tokens."""
        return cls(**{**PAPER_BUDGETS, **overrides})

    @property
    def reply_prefix(self) -> str:
        """The text every reply starts with: the code prefix, or nothing for plain decoding."""
        plain = self.paper_mode or self.decoding == "plain"
        if plain or (self.decoding == "auto" and not _continues_prefix(self.model)):
            return ""
        return CODE_PREFIX

    @property
    def continues_parent(self) -> bool:
        """Whether the meta level's replies start inside the parent improver, just before it
        returns (`tasks.contract.continuation_prefix`), instead of at its function head. Only
        with code decoding (so never in paper mode)."""
        return self.meta_continue and bool(self.reply_prefix)

    @property
    def names_meta_steps(self) -> bool:
        """Whether continued meta replies each open a strategy family's step, one step per
        reply (`core.meta.meta_steps`); needs guidance, so never in paper mode."""
        return self.continues_parent and self.shows_guidance and self.meta_step_families

    @property
    def describes_meta_utility(self) -> bool:
        """Whether the meta level sees the meta-utility's docstring in place of its code, whose
        `run_improver` and `fresh_language_model` small models called from improvers; needs
        guidance, so never in paper mode."""
        return self.shows_guidance and not self.meta_utility_code

    @property
    def shows_guidance(self) -> bool:
        """Whether prompts carry selftaught's guidance: the runtime contract after each utility
        text, and for the meta level the digest of the current improver's runs and the strategy
        families. Never in paper mode, which keeps the paper's prompts."""
        return self.guidance and not self.paper_mode

    def replace(self, **overrides: Any) -> RunConfig:
        """A copy with the given fields changed; None values are ignored (unset CLI flags)."""
        changes = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ConfigError(f"unknown config option(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def results_part(self) -> RunConfig:
        """This config with the execution-only options at their defaults (for comparing runs)."""
        return dataclasses.replace(self, **{name: _DEFAULTS[name] for name in EXECUTION_FIELDS})

    def differences(self, other: RunConfig) -> list[tuple[str, Any, Any]]:
        """(option, this value, other value) for each result-relevant option that differs."""
        mine, theirs = self.results_part().to_dict(), other.results_part().to_dict()
        return [(key, mine[key], theirs[key]) for key in mine if mine[key] != theirs[key]]

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_toml(self) -> str:
        """The config as TOML text (what `load_config` reads back)."""
        lines = ["# selftaught run configuration (the values this run used)"]
        for key, value in self.to_dict().items():
            lines.append(f"{key} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"


# Every field has a plain default (no factories), so these are the values themselves.
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(RunConfig)}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _coerce(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"config option {name} must be true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config option {name} must be an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"config option {name} must be a number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"config option {name} must be a string")
        return value
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ConfigError(f"config option {name} must be a list of strings")
    return tuple(value)


def read_config_file(path: Path | str) -> dict[str, Any]:
    """A config file's TOML table; ConfigError naming the file when it is missing or unreadable."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None


def load_config(path: Path | str, base: RunConfig | None = None) -> RunConfig:
    """Read a TOML file; its keys override `base` (the defaults when None)."""
    path = Path(path)
    data = read_config_file(path)
    base = base or RunConfig()
    defaults = base.to_dict()
    unknown = set(data) - set(defaults) - ACCESS_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown option(s) {', '.join(sorted(unknown))}")
    values = {k: _coerce(k, v, defaults[k]) for k, v in data.items() if k not in ACCESS_KEYS}
    return base.replace(**values)


def continue_with(saved: RunConfig, requested: RunConfig, run_dir: Path | str) -> RunConfig:
    """The config to continue a stored run with: `requested` when it only grows options in
    `EXTENDABLE_FIELDS` (or changes execution-only ones); ConfigError naming every other
    difference, with both values, and how to proceed."""
    refused = [
        (key, old, new)
        for key, old, new in saved.differences(requested)
        if key not in EXTENDABLE_FIELDS or new < old
    ]
    if not refused:
        return requested
    changes = "; ".join(f"{key} {old!r} (stored) vs {new!r} (asked)" for key, old, new in refused)
    grown = " and ".join(EXTENDABLE_FIELDS)
    raise ConfigMismatch(
        f"{run_dir} holds a run with other settings: {changes}. Only {grown} may grow when a "
        f"run is continued. Continue it unchanged with `selftaught run --resume {run_dir}`, or "
        "start a new run with another --out",
        changes,
    )


def save_config(config: RunConfig, run_dir: Path | str) -> Path:
    """Write the config used by a run into its directory."""
    path = Path(run_dir) / CONFIG_NAME
    tmp = path.with_name(CONFIG_NAME + ".tmp")
    tmp.write_text(config.to_toml())
    tmp.replace(path)  # a full disk or a kill never leaves a half-written config
    return path
