"""The layout of a run directory: its file names, the keys it stores and how they are built.

Everything that writes or reads a run directory names its parts from here, so a format lives in
one place: file names, the session-key format and its parser, the sample-index blocks, the keys
of the store's `meta` table and the event kinds. It imports nothing of selftaught, so any layer
(the config included) may use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# -- files ----------------------------------------------------------------------------------------
CONFIG_NAME = "config.toml"  # the run's `RunConfig`
DB_NAME = "run.sqlite"  # the run store
LM_CACHE_NAME = "lm_cache.sqlite"  # the response cache of the run's model
SUMMARY_NAME = "summary.json"  # the run's result, rewritten after every step
LOCK_NAME = "run.lock"  # the writer lock (a `flock`, holding the writer's PID)
COMPARE_RESULT = "compare.json"  # what `selftaught compare` writes when it finishes
COMPARE_PLOT = "compare.png"
REPORT_NAME = "report.html"

# -- keys of the store's `meta` table -------------------------------------------------------------
SEARCH_KEY = "search"  # the search a directory holds (`run --search`), claimed before t=0
TREE_KEY = "tree"  # a tree search's nodes and step log, as JSON
EXECUTOR_KEY = "executor"  # the executor's record (Ray: each worker's sandbox layers)
COMPARE_KEY = "compare"  # `compare`'s result, as JSON
IMPROVE_KEY = "improve"  # an `improve` run's inputs (task, improver, program), as JSON

# -- event kinds ----------------------------------------------------------------------------------
SELF_IMPROVEMENT_EVENT = "self_improvement"  # the outcome of one self-improvement step
UNCHANGED_EVENT = "unchanged_candidate"  # a candidate that is its parent reformatted
NOISE_TIE_EVENT = "noise_tie"  # timing margins, not scores, decided an adoption
LM_CALL_EVENT = "lm_call"  # one budgeted language-model call
STATIC_SCAN_SESSION = "static-scan"  # the session name of findings in an improver's source

#: Event kinds that count as a circumvention attempt (runtime reports and static findings).
CIRCUMVENTION_KINDS = frozenset(
    {
        "use_sandbox_false",
        "attribute_write",
        "attribute_delete",
        "language_model_construct",
        "utility_construct",
        "orchestrator_import",
        "source_disables_sandbox",
        "source_constructs_language_model",
        "source_sets_budget",
        "source_setattr",
        "source_imports_orchestrator",
    }
)

# -- sample indices -------------------------------------------------------------------------------
# Every (seed, purpose, run) gets its own block of indices, so runs draw different samples while a
# resumed run asks for exactly the same cache keys.
SEED_STRIDE = 10_000_000
META_LEVEL_BASE = 5_000_000  # within a seed's block: the self-improvement steps start here
RUN_STRIDE = 10_000


def downstream_start(seed: int, run_index: int) -> int:
    """The first sample index of downstream improver run `run_index` under `seed`."""
    return seed * SEED_STRIDE + run_index * RUN_STRIDE


def meta_start(seed: int, t: int) -> int:
    """The first sample index of self-improvement step `t` under `seed`."""
    return seed * SEED_STRIDE + META_LEVEL_BASE + t * RUN_STRIDE


def is_meta_level(sample_index: int) -> bool:
    """Whether a sample was drawn by a self-improvement step (else by an improver run)."""
    return sample_index % SEED_STRIDE >= META_LEVEL_BASE


# -- session keys ---------------------------------------------------------------------------------
SELF_IMPROVE = "self-improve"  # the purpose part of a self-improvement step's session key
META_RUN = "meta"  # the purpose part of a meta-utility's downstream improver runs
_RUN_PART = re.compile(r"r(\d+)")


@dataclass(frozen=True)
class SessionKey:
    """The parts of an improver run's session key `purpose/improver/task/start/rN`.

    `improver` is the improver's SHA-256 cut to 20 hex digits, `start` the starting solution's cut
    to 12; `task` is `Task.identity` (so an edited task file never reuses old sessions). A purpose
    may hold its own `/`-free text, e.g. `transfer[openai:m]`.
    """

    purpose: str
    improver: str
    task: str
    start: str
    run_index: int

    def __str__(self) -> str:
        return f"{self.purpose}/{self.improver}/{self.task}/{self.start}/r{self.run_index}"

    @classmethod
    def make(
        cls, purpose: str, improver_sha: str, task_identity: str, start_sha: str, run_index: int
    ) -> SessionKey:
        """The key of one run, from full hashes (cut here to the stored lengths)."""
        return cls(purpose, improver_sha[:20], task_identity, start_sha[:12], run_index)


def purpose_of(key: str) -> str:
    """The purpose part of any session key (`meta`, `compare`, `self-improve`, ...)."""
    return key.split("/")[0]


def start_of(key: str) -> str:
    """The starting solution's hash prefix of an improver run's key ("" for other keys)."""
    parts = key.split("/")
    return parts[3] if len(parts) >= 5 else ""


def parse_session_key(key: str) -> SessionKey | None:
    """The parts of an improver run's key; None for other keys (`self-improve/t3`).

    A task identity may itself hold `/` (none does today), so the parts are read from both ends.
    """
    parts = key.split("/")
    if len(parts) < 5 or (match := _RUN_PART.fullmatch(parts[-1])) is None:
        return None
    return SessionKey(parts[0], parts[1], "/".join(parts[2:-2]), parts[-2], int(match[1]))


def self_improve_key(t: int) -> str:
    """The session key of self-improvement step `t`."""
    return f"{SELF_IMPROVE}/t{t}"


def purpose_pattern(purpose: str) -> str:
    """A SQL `LIKE` pattern matching every session key of one purpose."""
    return f"{purpose}/%"
