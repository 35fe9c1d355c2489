"""CLI errors of improve/run/transfer: one clear line, non-zero exit, no traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from selftaught.cli.app import app


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_resume_of_a_missing_run(tmp_path: Path) -> None:
    code, output = invoke("run", "--resume", str(tmp_path / "nothing"))
    assert code == 2 and "holds no run to resume" in output and "Traceback" not in output


def test_transfer_of_a_missing_run(tmp_path: Path) -> None:
    code, output = invoke("transfer", str(tmp_path))
    assert code == 2 and "error:" in output


def test_bad_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("runs = -1\n")
    code, output = invoke("run", "--config", str(bad), "--out", str(tmp_path / "r"))
    assert code == 2 and "runs must be positive" in output


def test_improve_missing_file_and_unknown_task(tmp_path: Path) -> None:
    code, output = invoke("improve", str(tmp_path / "none.py"), "--task", "parity_noise")
    assert code == 2 and "no such file" in output
    program = tmp_path / "p.py"
    program.write_text("def algorithm():\n    return 1\n")
    code, output = invoke("improve", str(program), "--task", "no_such_task")
    assert code == 2 and "no_such_task" in output
    code, output = invoke("improve", str(program), "--task", "parity_noise", "--improver", "x.py")
    assert code == 2 and "improver file not found" in output


def test_run_rejects_an_unknown_search(tmp_path: Path) -> None:
    code, output = invoke("run", "--search", "beam", "--out", str(tmp_path / "r"))
    assert code == 2 and "unknown --search 'beam'" in output and "chain, archive, hgm" in output
    assert not (tmp_path / "r").exists()


def test_run_passes_search_to_run_search(tmp_path: Path, monkeypatch) -> None:
    import selftaught.search.run as run_module

    calls: list[tuple] = []

    def fake_run_search(search, config, run_dir, *, progress, plumbing):
        calls.append((search, config.task, Path(run_dir)))
        return {
            "iterations": [],
            "circumvention": {"attempts": 0, "improvements": 0, "rate": 0.0, "wilson_95": [0, 1]},
            "lm": {
                "calls": 0,
                "samples": 0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "seconds": 0.0,
            },
        }

    monkeypatch.setattr(run_module, "run_search", fake_run_search)
    code, output = invoke("run", "--search", "hgm", "--out", str(tmp_path / "r"))
    assert code == 0, output
    code, output = invoke("run", "--out", str(tmp_path / "s"))
    assert code == 0, output
    assert calls == [
        ("hgm", "parity_noise", tmp_path / "r"),
        (None, "parity_noise", tmp_path / "s"),
    ]


def test_load_improver_accepts_catalog_names(tmp_path: Path) -> None:
    import pytest

    from selftaught.core.meta import load_improver
    from selftaught.errors import ConfigError
    from selftaught.improvers.catalog import get_improver

    assert load_improver("beam") == get_improver("beam").source()
    assert "def improve_algorithm" in load_improver("seed")
    own = tmp_path / "mine.py"
    own.write_text("def improve_algorithm(s, u, l):\n    return s\n")
    assert load_improver(str(own)) == own.read_text()
    with pytest.raises(ConfigError, match="unknown improver 'nope'; valid: seed, beam"):
        load_improver("nope")


def test_run_takes_meta_rewrite_and_saves_it_with_the_run(tmp_path: Path) -> None:
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    out = tmp_path / "r"
    args = ("run", "--meta-rewrite", "--model", f"replay:{empty}", "--iterations", "1")
    code, output = invoke(*args, "--out", str(out))
    # the replay has no answers, so the run stops at its first LM call, after saving its config
    assert code == 2 and "meta replies continue the parent: False" in output
    assert "meta_continue = false" in (out / "config.toml").read_text()
    code, output = invoke("run", "--model", f"replay:{empty}", "--out", str(tmp_path / "d"))
    assert "meta replies continue the parent: True" in output  # the default
    args = ("run", "--model", f"replay:{empty}", "--iterations", "1")
    code, output = invoke(*args, "--paper-mode", "--out", str(tmp_path / "p"))
    assert "meta replies continue the parent: False" in output  # the paper's loop is kept
