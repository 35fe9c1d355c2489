"""Reading and writing outside the sandbox: scratch escapes, symlinks, /proc secrets, the
hidden task instances and seeds, the user's home, the project's own package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from redteam_support import CANARY, run_attack

import selftaught.tasks
from selftaught.sandbox import Limits

pytestmark = pytest.mark.redteam

PROJECT_SRC = Path(selftaught.tasks.__file__).resolve().parents[2]


@pytest.fixture
def host_canary_file(tmp_path: Path) -> Path:
    """A secret file on the host, outside the sandbox."""
    path = tmp_path / "secret.txt"
    path.write_text(CANARY)
    return path


def hidden_task_files() -> list[str]:
    tasks_dir = Path(selftaught.tasks.__file__).resolve().parent
    return [str(p) for p in sorted(tasks_dir.rglob("*")) if p.is_file()][:40]


def test_writes_outside_scratch_fail(tmp_path: Path) -> None:
    targets = [str(tmp_path / "pwned"), str(PROJECT_SRC / "pwned"), "/root/pwned-by-sandbox"]
    result = run_attack("write_outside_scratch", targets)
    assert result.status == "ok"
    assert result.value == []
    assert not any(os.path.exists(t) for t in targets)


def test_symlink_tricks_reach_nothing(host_canary_file: Path) -> None:
    secrets = [str(host_canary_file), "/etc/shadow", *hidden_task_files()[:3]]
    result = run_attack("symlink_tricks", secrets)
    assert result.status == "ok"
    assert result.value == {}


def test_proc_environ_reveals_no_secret() -> None:
    result = run_attack("proc_environ")
    assert result.status == "ok"
    seen = repr(result.value)
    assert CANARY not in seen
    assert "pytest" not in seen  # the orchestrator's processes are not visible at all
    assert all(not key.endswith("/mem") for key in result.value)  # root-owned zygote memory
    assert set(result.value["own_environ"]) <= {
        "PATH", "HOME", "LANG", "PWD", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE",
        "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "MALLOC_ARENA_MAX",
    }  # fmt: skip


def test_hidden_task_instances_and_seeds_are_invisible() -> None:
    known = hidden_task_files()
    assert known, "the tasks package should have files to protect"
    result = run_attack("read_hidden_tasks", known, limits=Limits(wall_seconds=20))
    assert result.status == "ok"
    assert result.value["readable"] == []
    outside_runtime = [h for h in result.value["hits"] if not h.startswith("/opt/selftaught")]
    assert outside_runtime == []


def test_home_and_system_secrets_are_unreadable(host_canary_file: Path) -> None:
    result = run_attack("home_and_secrets", [str(host_canary_file)])
    assert result.status == "ok"
    assert result.value["readable"] == {}


def test_project_package_cannot_be_imported() -> None:
    result = run_attack("import_project")
    assert result.status == "ok"
    assert result.value == []
