"""`ScoreResult`: what scoring one program on one split produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The fields every result has; a task's extra numbers may not reuse these names.
STANDARD_FIELDS = frozenset(
    {
        "task",
        "split",
        "score",
        "error",
        "seconds",
        "instances",
        "failed",
        "instance_scores",
        "timed_out",
        "near_limit",
        "margin",
    }
)


@dataclass(frozen=True)
class ScoreResult:
    """The utility of one program on one split.

    `score` is the mean instance score in [0, 1]; `error` is None when every instance ran and
    returned a valid answer, otherwise the first problem plus how many instances had one;
    `seconds` is the wall time of the evaluation; `instances` the number of instances scored.
    `failed` and `instance_scores` give the detail behind the mean. `extra` holds task-specific
    numbers (e.g. circle packing's `sum_of_radii`), each averaged over the instances whose answer
    was valid; the JSON forms list them beside the standard fields.

    `timed_out` counts the instances that failed on time; `near_limit` those whose deciding CPU
    time was within 10% of the task's limit, either side (see `selftaught.tasks.timing`), whose
    verdicts a differently loaded machine could conceivably flip. `margin` is the most the score
    could move if they all flipped: differences smaller than that are ties.
    """

    task: str
    split: str
    score: float
    error: str | None
    seconds: float
    instances: int
    failed: int = 0
    instance_scores: tuple[float, ...] = ()
    extra: Mapping[str, float] = field(default_factory=dict)
    timed_out: int = 0
    near_limit: int = 0

    @property
    def margin(self) -> float:
        """The most the score could move if every near-limit verdict flipped."""
        return self.near_limit / self.instances if self.instances else 0.0

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        """The public JSON object; `full=True` adds `failed` and `instance_scores`."""
        data: dict[str, Any] = {
            "task": self.task,
            "split": self.split,
            "score": self.score,
            "error": self.error,
            "seconds": self.seconds if full else round(self.seconds, 4),
            "instances": self.instances,
            "timed_out": self.timed_out,
            "near_limit": self.near_limit,
            "margin": self.margin,
        }
        if full:
            data["failed"] = self.failed
            data["instance_scores"] = list(self.instance_scores)
        for name, value in self.extra.items():
            data.setdefault(name, value)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoreResult:
        """Rebuild a result from `to_json(full=True)` output."""
        return cls(
            task=data["task"],
            split=data["split"],
            score=float(data["score"]),
            error=data["error"],
            seconds=float(data["seconds"]),
            instances=int(data["instances"]),
            failed=int(data.get("failed", 0)),
            instance_scores=tuple(float(s) for s in data.get("instance_scores", ())),
            timed_out=int(data.get("timed_out", 0)),
            near_limit=int(data.get("near_limit", 0)),
            extra={k: v for k, v in data.items() if k not in STANDARD_FIELDS},
        )
