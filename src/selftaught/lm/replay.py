"""Recording exchanges to JSONL, and the ``replay:PATH`` backend that answers from such a file.

A recording is keyed on (messages, temperature, max_tokens, sample index) but not on the model
spec, so exchanges recorded from one backend replay under any spec. Every line is flushed as it is
written, so a crash loses nothing that was already answered.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from selftaught.errors import ConfigError, ReplayMiss
from selftaught.lm.types import (
    Backend,
    Sample,
    SampleRequest,
    SampleSink,
    Usage,
    UsageMeter,
    describe_messages,
    generate_streaming,
    normalize_messages,
    sample_key,
)

_FILE_LOCKS: dict[Path, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: Path) -> threading.Lock:
    """One lock per recording file, shared by every recorder in the process."""
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(path.resolve(), threading.Lock())


def replay_key(request: SampleRequest, index: int) -> str:
    """The spec-independent key of one recorded sample."""
    return sample_key("", request.messages, request.temperature, request.max_tokens, index)


class RecordingBackend:
    """Passes requests to ``inner`` and appends every exchange to a JSONL file."""

    streams_samples = True

    def __init__(self, inner: Backend, path: Path | str) -> None:
        self.inner = inner
        self.spec = inner.spec
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _file_lock(self.path)

    @property
    def usage(self) -> Usage:
        return self.inner.usage

    def generate(
        self, requests: Sequence[SampleRequest], on_sample: SampleSink | None = None
    ) -> list[list[Sample]]:
        """The inner backend's samples, each appended to the file the moment it arrives."""

        def arrived(pos: int, j: int, sample: Sample) -> None:
            req = requests[pos]
            line = json.dumps(
                _record(self.spec, req, req.first_index + j, sample), ensure_ascii=False
            )
            with self._lock, open(self.path, "a", encoding="utf-8") as out:
                out.write(line + "\n")
                out.flush()
            if on_sample is not None:
                on_sample(pos, j, sample)

        return generate_streaming(self.inner, requests, arrived)


def _record(spec: str, req: SampleRequest, index: int, sample: Sample) -> dict[str, Any]:
    return {
        "spec": spec,
        "messages": [list(m) for m in req.messages],
        "temperature": req.temperature,
        "max_tokens": req.max_tokens,
        "sample_index": index,
        "text": sample.text,
        "prompt_tokens": sample.prompt_tokens,
        "completion_tokens": sample.completion_tokens,
        "seconds": round(sample.seconds, 4),
    }


def load_recording(path: Path) -> dict[str, dict[str, Any]]:
    """Read a JSONL recording into a key -> record map. A truncated last line is ignored."""
    if not path.is_file():
        raise ConfigError(f"replay file {path} does not exist")
    table: dict[str, dict[str, Any]] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            req = SampleRequest(
                normalize_messages(rec["messages"]),
                1,
                float(rec["temperature"]),
                int(rec["max_tokens"]),
                int(rec["sample_index"]),
            )
            str(rec["text"])
        except (ValueError, KeyError, TypeError) as exc:
            if number == len(lines):  # a crash mid-write leaves at most one partial line
                break
            msg = f"replay file {path}, line {number}: not a recorded exchange"
            raise ConfigError(msg) from exc
        table[replay_key(req, req.first_index)] = rec
    return table


class ReplayBackend:
    """Answers only from a recording; an unrecorded prompt raises ReplayMiss."""

    def __init__(self, path: Path | str, spec: str | None = None) -> None:
        self.path = Path(path).expanduser()
        self.spec = spec or f"replay:{self.path}"
        self._table = load_recording(self.path)
        self._meter = UsageMeter()

    @property
    def usage(self) -> Usage:
        return self._meter.total

    def __len__(self) -> int:
        return len(self._table)

    def generate(self, requests: Sequence[SampleRequest]) -> list[list[Sample]]:
        out: list[list[Sample]] = []
        for req in requests:
            row = []
            for index in req.indices:
                rec = self._table.get(replay_key(req, index))
                if rec is None:
                    raise ReplayMiss(
                        f"{self.path.name} has no recorded answer for "
                        f"{describe_messages(req.messages)} "
                        f"(temperature={req.temperature}, max_tokens={req.max_tokens}, "
                        f"sample {index})"
                    )
                row.append(
                    Sample(
                        str(rec["text"]),
                        int(rec.get("prompt_tokens", 0)),
                        int(rec.get("completion_tokens", 0)),
                        0.0,
                    )
                )
            out.append(row)
        self._meter.record_call([s for row in out for s in row])
        return out
