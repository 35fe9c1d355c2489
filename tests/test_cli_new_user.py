"""What a new user meets first: program output that stays valid, starts that fail without a trace,
one writer per run directory, a model server that is down, progress bars and help that tell the
truth."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.cli.progress import RichProgress
from selftaught.config import RunConfig, save_config
from selftaught.errors import ConfigError as StopHere
from selftaught.improvers.catalog import IMPROVERS
from selftaught.search import context as context_module
from selftaught.search import improve as improve_module
from selftaught.search import run as run_module
from selftaught.search.context import prepare_run_dir
from selftaught.store.db import RunStore

SRC = Path(__file__).resolve().parents[1] / "src"
README = Path(__file__).resolve().parents[1] / "README.md"
LONG_LINE = "    return [" + ", ".join(f"value_{i} * 2" for i in range(30)) + "]"
PROGRAM = f"def algorithm(value_0):\n{LONG_LINE}\n"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def fake_improve(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {
        "task": "maxcut",
        "score_before": 0.25,
        "score_after": 0.5,
        "improved": True,
        "reason": "val 0.2500 -> 0.5000",
        "program": PROGRAM,
        "status": "ok",
        "error": None,
        "lm_calls": 1,
        "lm_budget": 1,
        "samples": 4,
        "circumvention_attempts": 0,
    }


# -- 1. program output is always valid --
def test_improve_writes_the_program_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(improve_module, "improve_program", fake_improve)
    source = tmp_path / "p.py"
    source.write_text("def algorithm(x):\n    return x\n")
    result = invoke("improve", str(source), "--task", "maxcut")
    assert result.exit_code == 0, result.output
    assert result.stdout == PROGRAM  # no wrapping at 80 columns, no summary mixed in
    compile(result.stdout, "improved.py", "exec")
    assert "0.250 -> 0.500" in result.stderr
    target = tmp_path / "out" / "better.py"
    result = invoke("improve", str(source), "--task", "maxcut", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text() == PROGRAM and result.stdout == ""


# -- 2. a failed start leaves nothing behind --
def test_a_start_with_a_bad_model_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "d"
    result = invoke("run", "--model", "gpt4", "--out", str(out))
    assert result.exit_code == 2 and "unknown model spec 'gpt4'" in result.output
    assert not (tmp_path / "runs").exists()
    result = invoke("run", "--task", "no_such_task", "--out", str(out))
    assert result.exit_code == 2 and not (tmp_path / "runs").exists()


def test_a_directory_bricked_by_an_old_failed_start_starts_afresh(tmp_path: Path) -> None:
    save_config(RunConfig(model="gpt4-typo"), tmp_path)  # what an old failed start left
    RunStore(tmp_path).close()
    config = prepare_run_dir(RunConfig(model="embedded"), tmp_path, resume=False)
    assert config.model == "embedded"


def test_a_real_difference_names_keys_values_and_the_way_out(tmp_path: Path) -> None:
    prepare_run_dir(RunConfig(runs=2, seed=1), tmp_path, resume=False)
    store = RunStore(tmp_path)
    store.add_program("def f():\n    return 1\n", "solution")
    store.close()
    result = invoke("run", "--out", str(tmp_path), "--runs", "3", "--seed", "4")
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "runs 2 (stored) vs 3 (asked)" in message and "seed 1 (stored) vs 4 (asked)" in message
    assert f"selftaught run --resume {tmp_path}" in message and "another --out" in message


# -- 4. runs can be extended: growth only, named refusals --
def test_only_extendable_options_may_grow(tmp_path: Path) -> None:
    prepare_run_dir(RunConfig(iterations=2), tmp_path, resume=False)
    store = RunStore(tmp_path)
    store.add_program("def f():\n    return 1\n", "solution")
    store.close()
    grown = prepare_run_dir(RunConfig(iterations=5, meta_utility_budget=9), tmp_path, resume=False)
    assert (grown.iterations, grown.meta_utility_budget) == (5, 9)
    assert prepare_run_dir(RunConfig(), tmp_path, resume=True).iterations == 5  # saved
    with pytest.raises(Exception, match=r"iterations 5 \(stored\) vs 3 \(asked\)"):
        prepare_run_dir(RunConfig(iterations=3, meta_utility_budget=9), tmp_path, resume=False)


def test_run_resume_applies_the_options_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_config(RunConfig(iterations=2, runs=3), tmp_path)
    seen: list[RunConfig] = []

    def fake_run_search(search: Any, config: RunConfig, run_dir: Any, **kwargs: Any) -> dict:
        seen.append(config)
        raise StopHere("stop here")

    monkeypatch.setattr(run_module, "run_search", fake_run_search)
    invoke("run", "--resume", str(tmp_path), "--iterations", "5")
    invoke("run", "--out", str(tmp_path))  # `make run` again: the stored options, unchanged
    assert [(c.iterations, c.runs) for c in seen] == [(5, 3), (2, 3)]


# -- 6. one writer per run directory --
HOLD_LOCK = """
import sys, time
from selftaught.store.lock import run_dir_lock
with run_dir_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(SRC)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = invoke("run", "--out", str(tmp_path), "--model", "embedded")
        assert result.exit_code == 2
        assert f"in use by another selftaught process (PID {holder.pid})" in result.output
        assert not (tmp_path / "config.toml").exists()
    finally:
        holder.kill()
        holder.wait()


# -- 7. fail fast on a server that nothing answers --
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_fails_in_seconds_naming_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the input was scored before the model was checked")

    monkeypatch.setattr(context_module, "loop_context", never)
    monkeypatch.setattr(improve_module, "loop_context", never)
    program = tmp_path / "p.py"
    program.write_text("def algorithm(x):\n    return x\n")
    for args in (
        ["run", "--out", str(tmp_path / "r")],
        ["improve", str(program), "--task", "maxcut"],
    ):
        start = time.monotonic()
        result = invoke(*args, "--model", "openai:m", "--base-url", url)
        assert time.monotonic() - start < 5
        assert result.exit_code == 2 and url in result.output, result.output
        assert "no OpenAI-compatible server answers" in result.output
    assert not (tmp_path / "r").exists()


# -- 8. progress and help --
def test_progress_bars_end_complete_and_exact() -> None:
    stream = io.StringIO()
    with RichProgress(Console(file=stream, width=120)) as progress:
        progress.expect(samples=32, evaluations=10)
        progress.lm_samples(12)
        progress.evaluations(4)
    tasks = progress.progress.tasks
    assert [(t.completed, t.total) for t in tasks] == [(12, 12), (4, 4)]
    assert all(t.finished for t in tasks)
    assert "12/12" in stream.getvalue() and "~32" not in stream.getvalue().splitlines()[-1]


def test_estimated_totals_are_marked() -> None:
    stream = io.StringIO()
    progress = RichProgress(Console(file=stream, width=120))
    progress.expect(samples=32)
    progress.lm_samples(3)
    progress.progress.refresh()
    column = progress.progress.columns[2]
    assert str(column.render(progress.progress.tasks[0])) == "3/~32"


def _help(command: str) -> str:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    return " ".join(result.output.split())


def test_run_help_shows_defaults() -> None:
    text = _help("run")
    for default in ("parity_noise", "runs/latest", "embedded", "768"):
        assert re.search(rf"\[default: \(?{re.escape(default)}\)?\]", text), default


@pytest.mark.parametrize("command", ["run", "improve", "compare", "transfer"])
def test_model_flags_on_every_command_that_runs_improvers(command: str) -> None:
    text = _help(command)
    flags = ("--base-url", "--max-concurrency", "--no-cache", "--record", "--model", "--executor")
    for flag in flags:
        assert flag in text, (command, flag)


def test_improve_takes_budgets_and_lists_the_library() -> None:
    text = _help("improve")
    for flag in ("--lm-budget", "--responses", "--max-tokens", "--utility-budget", "--output"):
        assert flag in text
    assert all(name in text for name in IMPROVERS)
    # improve's default is the benchmark's strongest improver, not the paper's seed
    assert re.search(r"--improver\s.*\[default:\s*refine\]", " ".join(text.split()))


def _readme_commands() -> list[tuple[str, str]]:
    """(command, its arguments) for every `selftaught ...` in README code (blocks and spans)."""
    text = README.read_text()
    code = re.findall(r"```bash\n(.*?)```", text, re.S) + re.findall(r"`([^`\n]+)`", text)
    found = []
    for snippet in code:
        for line in snippet.splitlines():
            line = line.split("#")[0]
            found += re.findall(r"selftaught ([a-z][a-z-]*)([^;&|]*)", line)
            found += [("run", args) for args in re.findall(r'RUN_ARGS="([^"]*)"', line)]
    return found


def test_every_flag_the_readme_shows_exists_on_its_command() -> None:
    shown: dict[str, set[str]] = {}
    for command, args in _readme_commands():
        shown.setdefault(command, set()).update(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", args))
    assert {"run", "improve", "compare", "transfer", "report"} <= set(shown)
    for command, flags in shown.items():
        text = _help(command)
        missing = {flag for flag in flags if flag not in text}
        assert not missing, (command, missing)
