"""Model assembly from weight-part packages: verification, skip on reuse, clear errors."""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from pathlib import Path

import pytest

from selftaught.errors import ModelUnavailable
from selftaught.lm.assemble import assembled_path, ensure_model, model_status
from selftaught.lm.registry import MODELS, EmbeddedModel

PARTS = [b"alpha-" * 1000, b"beta-" * 999, b"gamma"]


def make_parts(root: Path, prefix: str, contents: list[bytes]) -> tuple[str, ...]:
    """Create importable part packages shaped like the real ones (data/partNN.bin)."""
    names = []
    for i, data in enumerate(contents, start=1):
        name = f"{prefix}{i}"
        pkg = root / name
        (pkg / "data").mkdir(parents=True)
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
        (pkg / "__init__.py").write_text(
            "import os\n"
            "def get_part_path():\n"
            f"    return os.path.join(os.path.dirname(__file__), 'data', 'part{i:02d}.bin')\n"
        )
        names.append(name)
    return tuple(names)


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    prefix = f"fakepart_{request.node.name.replace('[', '_').replace(']', '')}_"
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    modules = make_parts(tmp_path / "pkgs", prefix, PARTS)
    importlib.invalidate_caches()
    blob = b"".join(PARTS)
    model = EmbeddedModel(
        name="fake",
        description="test",
        filename="fake.gguf",
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        part_modules=modules,
        requirements=(),
    )
    yield model, tmp_path / "models"
    for name in modules:
        sys.modules.pop(name, None)


def test_assembles_verifies_and_marks(fake_model) -> None:  # type: ignore[no-untyped-def]
    model, where = fake_model
    path = ensure_model(model, where, progress=False)
    assert path == assembled_path(model, where)
    assert path.read_bytes() == b"".join(PARTS)
    assert model_status(model, where).assembled
    assert not [p for p in where.iterdir() if p.name.endswith(".tmp")]


def test_second_use_skips_parts_and_hashing(fake_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, where = fake_model
    ensure_model(model, where, progress=False)
    for name in model.part_modules:  # the parts are no longer needed
        (tmp_path / "pkgs" / name / "data").rename(tmp_path / f"{name}-gone")
    assert ensure_model(model, where, progress=True).is_file()


def test_existing_file_without_marker_is_hashed_not_rebuilt(fake_model) -> None:  # type: ignore[no-untyped-def]
    model, where = fake_model
    path = ensure_model(model, where, progress=False)
    marker = path.with_name(path.name + ".verified.json")
    marker.unlink()
    inode = path.stat().st_ino
    ensure_model(model, where, progress=False)
    assert marker.is_file() and path.stat().st_ino == inode


def test_tampered_file_is_detected_and_rebuilt(fake_model) -> None:  # type: ignore[no-untyped-def]
    model, where = fake_model
    path = ensure_model(model, where, progress=False)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(1, 1))  # the marker no longer matches the file
    assert ensure_model(model, where, progress=False).read_bytes() == b"".join(PARTS)


def test_missing_part_names_the_fix(fake_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, where = fake_model
    missing = EmbeddedModel(**{**model.__dict__, "part_modules": (*model.part_modules, "nope_x")})
    with pytest.raises(ModelUnavailable, match=r"nope_x.*pip install 'selftaught\[embedded\]'"):
        ensure_model(missing, where, progress=False)
    assert model_status(missing, where).missing_parts == ("nope_x",)
    assert not model_status(missing, where).installed


def test_corrupt_part_is_rejected_and_leaves_nothing(fake_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, where = fake_model
    part = tmp_path / "pkgs" / model.part_modules[1] / "data" / "part02.bin"
    part.write_bytes(b"x" * len(PARTS[1]))  # same size, wrong bytes
    with pytest.raises(ModelUnavailable, match=r"SHA-256.*force-reinstall"):
        ensure_model(model, where, progress=False)
    assert not assembled_path(model, where).exists()
    assert not [p for p in where.iterdir() if p.name.endswith(".tmp")]


def test_truncated_part_is_rejected_by_size(fake_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, where = fake_model
    part = tmp_path / "pkgs" / model.part_modules[0] / "data" / "part01.bin"
    part.write_bytes(PARTS[0][:-10])
    with pytest.raises(ModelUnavailable, match="bytes"):
        ensure_model(model, where, progress=False)


def test_registry_sizes_match_models_md() -> None:
    assert MODELS["qwen2.5-coder-1.5b"].size == 1_117_320_768
    assert MODELS["qwen2.5-coder-0.5b"].size == 491_400_064
    assert len(MODELS["qwen2.5-coder-1.5b"].part_modules) == 22
    assert len(MODELS["qwen2.5-coder-0.5b"].requirements) == 6
    assert all(len(m.sha256) == 64 for m in MODELS.values())
