"""`executor` as an option: validated, read from TOML, given on every command, and never a reason
to refuse continuing or resuming a run (it changes where work runs, not its results)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.config import RunConfig, load_config
from selftaught.errors import ConfigError
from selftaught.execute import LocalExecutor, make_executor
from selftaught.search.context import prepare_run_dir
from selftaught.store.db import RunStore


def test_unknown_executor_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown executor 'gpu'; valid: local, ray"):
        RunConfig(executor="gpu")
    path = tmp_path / "c.toml"
    path.write_text('executor = "ray"\nruns = 3\n')
    assert load_config(path).executor == "ray"
    path.write_text('executor = "slurm"\n')
    with pytest.raises(ConfigError, match="slurm"):
        load_config(path)
    with pytest.raises(ConfigError, match="unknown executor"):
        make_executor("threads")
    assert isinstance(make_executor("local"), LocalExecutor)


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ConfigError, match=r"pip install 'selftaught\[ray\]'"):
        make_executor("ray")


def test_executor_never_makes_configs_differ(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    first = prepare_run_dir(RunConfig(executor="ray", runs=3), run_dir, resume=False)
    assert first.executor == "ray" and load_config(run_dir / "config.toml").executor == "ray"
    # the same run started again on the local executor continues (and records the change)
    again = prepare_run_dir(RunConfig(runs=3), run_dir, resume=False)
    assert again.executor == "local" and again.runs == 3
    assert load_config(run_dir / "config.toml").executor == "local"
    # once the run has recorded work, a result-changing option still refuses
    store = RunStore(run_dir)
    store.add_program("def f():\n    return 1\n", "solution")
    store.close()
    with pytest.raises(ConfigError, match=r"runs 3 \(stored\) vs 4 \(asked\)"):
        prepare_run_dir(RunConfig(runs=4), run_dir, resume=False)
    # resume keeps the saved executor unless one is given
    assert prepare_run_dir(RunConfig(), run_dir, resume=True).executor == "local"
    resumed = prepare_run_dir(RunConfig(), run_dir, resume=True, executor="ray")
    assert resumed.executor == "ray" and resumed.runs == 3
    assert load_config(run_dir / "config.toml").executor == "ray"


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--out", "{tmp}/r", "--executor", "bogus"],
        ["improve", "{seed}", "--task", "parity_noise", "--executor", "bogus"],
        ["compare", "--tasks", "parity_noise", "--out", "{tmp}/c", "--executor", "bogus"],
        ["transfer", "{tmp}/done", "--executor", "bogus"],
        ["doctor", "--executor", "bogus"],
    ],
)
def test_every_command_rejects_an_unknown_executor(args: list[str], tmp_path: Path) -> None:
    seed = tmp_path / "seed.py"
    seed.write_text("def algorithm(*args):\n    return 0\n")
    done = tmp_path / "done"
    done.mkdir()
    (done / "config.toml").write_text('task = "parity_noise"\n')
    argv = [a.format(tmp=tmp_path, seed=seed) for a in args]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert "unknown executor 'bogus'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r").exists()  # nothing started


def test_an_unreachable_cluster_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    from selftaught.execute.ray_driver import _check_reachable
    from selftaught.execute.wire import ExecutorError

    with pytest.raises(ExecutorError, match=r"no Ray cluster answers at 127\.0\.0\.1:1"):
        _check_reachable("127.0.0.1:1", timeout=2)
    _check_reachable("auto")  # Ray's own forms are left to Ray
    if ray.is_initialized():  # a shared instance would be reused instead of joined
        return
    seed = tmp_path / "seed.py"
    seed.write_text("def algorithm(*args):\n    return 0\n")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    args = ["improve", str(seed), "--task", "parity_noise", "--executor", "ray"]
    recording = Path(__file__).parent / "fixtures" / "recordings" / "loop_run.jsonl"
    result = CliRunner().invoke(app, [*args, "--model", f"replay:{recording}"])
    assert result.exit_code == 2 and "no Ray cluster answers" in result.output, result.output
