"""What an `improve` run directory remembers, so `improve --resume DIR` can continue it, and the
live progress of a long improve run (best score so far, valid rate).

An improve run directory holds the config (`config.toml`), the run store with the input program,
the improver and every evaluation, and the response cache. Its store's `meta` key `improve`
names the run's task, improver and input. Resuming runs the same improver session again: every
finished sample comes from the response cache and every finished evaluation from the store, so
a deterministic improver retraces its steps for free and continues where it was killed.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from selftaught.config import CONFIG_NAME, RunConfig, load_config, save_config
from selftaught.core.progress import ProgressSink
from selftaught.errors import ConfigError
from selftaught.store.db import Evaluation, RunStore
from selftaught.store.layout import IMPROVE_KEY

__all__ = ["ImproveRecord", "ImproveTracker", "claim_improve", "stored_improve", "with_samples"]

#: With --samples, the improver session may run this long per sample (a 1.5B model on 2 CPU
#: cores takes well under a minute per sample; evaluations add to it).
SECONDS_PER_SAMPLE = 120.0


@dataclass(frozen=True)
class ImproveRecord:
    """The inputs of one improve run: task reference, improver (name or path), hashes."""

    task: str
    improver: str
    improver_sha: str
    source_sha: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def with_samples(config: RunConfig, task_budget: int) -> RunConfig:
    """The config of an improve run of `config.samples` LM samples (unchanged when 0).

    The LM budget becomes the calls those samples need at `max_responses_per_call` each; an unset
    utility budget (0) grows to one evaluation per sample plus the input's, and the session's
    wall limit to `SECONDS_PER_SAMPLE` per sample, so neither ends a long run early.
    """
    if config.samples <= 0:
        return config
    calls = math.ceil(config.samples / config.max_responses_per_call)
    utility = config.utility_budget or max(task_budget, config.samples + 1)
    seconds = max(config.improver_seconds, SECONDS_PER_SAMPLE * config.samples)
    return config.replace(lm_budget=calls, utility_budget=utility, improver_seconds=seconds)


def claim_improve(store: RunStore, run_dir: Path, config: RunConfig, record: ImproveRecord) -> None:
    """Mark `run_dir` as this improve run and save its config; ConfigError when it holds
    another run (other inputs or other settings)."""
    from selftaught.store.kind import IMPROVE, held_search

    held = held_search(store.query, run_dir)
    if held not in (None, IMPROVE):
        raise ConfigError(f"{run_dir} holds a {held} run, not an improve run; choose another --out")
    stored = store.get_meta(IMPROVE_KEY)
    saved_path = run_dir / CONFIG_NAME
    if stored is not None and stored != record.to_json():
        raise ConfigError(
            f"{run_dir} holds another improve run (other program, task or improver); continue "
            f"it with `selftaught improve --resume {run_dir}`, or choose another --out"
        )
    if stored is not None and saved_path.is_file():
        differences = load_config(saved_path).differences(config)
        if differences:
            changes = "; ".join(f"{k} {old!r} (stored) vs {new!r}" for k, old, new in differences)
            raise ConfigError(
                f"{run_dir} holds an improve run with other settings: {changes}. Continue it "
                f"with `selftaught improve --resume {run_dir}`, or choose another --out"
            )
    save_config(config, run_dir)
    store.set_meta(IMPROVE_KEY, record.to_json())


def stored_improve(run_dir: Path) -> tuple[RunConfig, ImproveRecord, str, str]:
    """(config, record, input source, improver source) of a stored improve run."""
    from selftaught.store.layout import DB_NAME

    if not (run_dir / DB_NAME).is_file() or not (run_dir / CONFIG_NAME).is_file():
        raise ConfigError(f"{run_dir} holds no improve run to resume")
    store = RunStore(run_dir, read_only=True)
    try:
        raw = store.get_meta(IMPROVE_KEY)
        if raw is None:
            raise ConfigError(f"{run_dir} holds no improve run to resume (made by another command)")
        record = ImproveRecord(**json.loads(raw))
        source = store.program(record.source_sha)
        improver = store.program(record.improver_sha)
    finally:
        store.close()
    if source is None or improver is None:
        raise ConfigError(f"{run_dir} lacks the program or improver of its improve run")
    return load_config(run_dir / CONFIG_NAME), record, source, improver


class ImproveTracker:
    """Forwards progress; counts LM samples and follows the candidates' validation scores.

    `scored` sees every validation score of the run (stored ones too, so a resumed run shows the
    same figures); the valid rate is the share of samples that gave a program scored without
    error.
    """

    def __init__(self, inner: ProgressSink, input_sha: str = "") -> None:
        self.inner = inner
        self.input_sha = input_sha  # the input counts for the best score, not the valid rate
        self.samples = 0
        self.valid = 0
        self.best: float | None = None
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def scored(self, sha: str, split: str, evaluation: Evaluation) -> None:
        if split != "val":
            return
        with self._lock:
            if sha in self._seen:
                return
            self._seen.add(sha)
            if evaluation.error is None:
                self.valid += sha != self.input_sha
                if self.best is None or evaluation.score > self.best:
                    self.best = evaluation.score
        self._report()

    def _report(self) -> None:
        best = "–" if self.best is None else f"{self.best:.4f}"
        rate = f"{100 * min(1.0, self.valid / self.samples):.0f}%" if self.samples else "–"
        self.status(f"best so far {best}, valid {rate}")

    def expect(self, *, samples: int = 0, evaluations: int = 0) -> None:
        self.inner.expect(samples=samples, evaluations=evaluations)

    def lm_samples(self, n: int) -> None:
        with self._lock:
            self.samples += n
        self.inner.lm_samples(n)
        self._report()

    def evaluations(self, n: int) -> None:
        self.inner.evaluations(n)

    def note(self, text: str) -> None:
        self.inner.note(text)

    def status(self, text: str) -> None:
        # a sink written before `status` joined the protocol simply shows no status
        show = getattr(self.inner, "status", None)
        if show is not None:
            show(text)
