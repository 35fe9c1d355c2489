"""`ScoreResult`: what scoring one program on one split produced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ScoreResult:
    """The utility of one program on one split.

    `score` is the mean instance score in [0, 1]; `error` is None when every instance ran and
    returned a valid answer, otherwise the first problem plus how many instances had one;
    `seconds` is the wall time of the evaluation; `instances` the number of instances scored.
    `failed` and `instance_scores` give the detail behind the mean.
    """

    task: str
    split: str
    score: float
    error: str | None
    seconds: float
    instances: int
    failed: int = 0
    instance_scores: tuple[float, ...] = ()

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        """The public JSON object; `full=True` adds `failed` and `instance_scores`."""
        data: dict[str, Any] = {
            "task": self.task,
            "split": self.split,
            "score": self.score,
            "error": self.error,
            "seconds": self.seconds if full else round(self.seconds, 4),
            "instances": self.instances,
        }
        if full:
            data["failed"] = self.failed
            data["instance_scores"] = list(self.instance_scores)
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
        )
