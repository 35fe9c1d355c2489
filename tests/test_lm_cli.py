"""`selftaught models` and `selftaught ask` (ask is exercised on the real recorded exchanges)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from selftaught.cli.app import app

FIXTURE = Path(__file__).parent / "fixtures" / "recordings" / "lm_qwen05b.jsonl"
EXPERT = "You are an expert Python programmer. Answer with code only."
runner = CliRunner()


def test_models_json_lists_every_spec_form_with_paths() -> None:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    specs = [m["spec"] for m in data["models"]]
    assert specs[:2] == ["embedded:qwen2.5-coder-1.5b", "embedded:qwen2.5-coder-0.5b"]
    assert {"gguf:PATH", "openai:MODEL", "replay:PATH"} <= set(specs)
    first = data["models"][0]
    assert first["default"] is True and first["size_bytes"] == 1_117_320_768
    assert isinstance(first["installed"], bool) and first["path"].endswith(".gguf")
    assert data["response_cache"].endswith("responses.sqlite3")


def test_models_table() -> None:
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0
    assert "embedded:qwen2.5-coder-0.5b" in result.stdout
    assert "response cache:" in result.stdout


def test_ask_prints_the_recorded_real_completion() -> None:
    args = ["ask", "--model", f"replay:{FIXTURE}", "--system", EXPERT, "--max-tokens", "96"]
    result = runner.invoke(app, [*args, "Write a Python function square(x) that returns x * x."])
    assert result.exit_code == 0, result.output
    recorded = next(
        json.loads(line)["text"]
        for line in FIXTURE.read_text().splitlines()
        if json.loads(line)["temperature"] == 0.0
    )
    assert result.stdout.strip() == recorded.strip()
    assert "def square" in result.stdout


def test_ask_can_record(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    args = ["ask", "-m", f"replay:{FIXTURE}", "--system", EXPERT, "--max-tokens", "96"]
    args += ["--record", str(out), "Write a Python function square(x) that returns x * x."]
    assert runner.invoke(app, args).exit_code == 0
    [line] = out.read_text().splitlines()
    assert "def square" in json.loads(line)["text"]


def test_errors_are_one_line_without_traceback() -> None:
    for args in (
        ["ask", "--model", "bogus", "hi"],
        ["ask", "--model", f"replay:{FIXTURE}", "never recorded"],
        ["ask", "--model", f"replay:{FIXTURE}", "--temperature", "9", "hi"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "Traceback" not in result.output
