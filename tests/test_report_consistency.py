"""One number, one value: every view rounds the stored score once; the report's counts of
improvers agree; a comparison's report shows no STOP-run fields; `runs` never cuts names."""

from __future__ import annotations

import json
import re
import shutil
import statistics
from pathlib import Path

from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.config import RunConfig, save_config
from selftaught.report import build_report
from selftaught.search.summary import write_summary
from selftaught.store.db import IterationRecord, RunStore, SessionRecord
from selftaught.store.layout import SessionKey

FIXTURE_RUN = Path(__file__).parent / "fixtures" / "report_run"
SEED = "def improve_algorithm(initial_solution, utility, language_model):\n    return None\n"
# 24.5499935%: rounded once it is 24.5%; rounded to 6 places first it would read 24.6%.
RUN_SCORES = (0.49099987, 0.0)


def page_text(path: Path) -> str:
    text = re.sub(r"<(style|pre)\b.*?</\1>", " ", path.read_text(), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def test_a_score_is_rounded_once_everywhere(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    save_config(RunConfig(iterations=0, runs=2, model="openai:gpt-test"), run)
    store = RunStore(run)
    seed = store.add_program(SEED, "improver")
    for i, score in enumerate(RUN_SCORES):
        key = str(SessionKey("meta", seed[:20], "parity_noise", "aaaa", i))
        store.add_session(
            SessionRecord(key, seed, "parity_noise", None, score, score, "ok", None, 1, 1)
        )
    mean = statistics.fmean(RUN_SCORES)
    store.add_iteration(IterationRecord(0, seed, mean, mean, True, None, None, None))
    summary = write_summary(store)
    store.close()
    assert summary["iterations"][0]["meta_utility_val"] == mean  # stored unrounded
    listed = CliRunner().invoke(app, ["runs", str(tmp_path / "runs")])
    page = page_text(build_report(run))
    for shown in (listed.output, page):
        assert "24.5%" in shown and "24.6%" not in shown


def test_counts_of_candidates_and_improvers_agree(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(FIXTURE_RUN, run)
    text = page_text(build_report(run, tmp_path / "page" / "report.html"))
    written = re.search(
        r"among (\d+) LM-written improvers \((\d+) candidates and (\d+) explored", text
    )
    assert written, text[:3000]
    total, candidates, explored = map(int, written.groups())
    assert total == candidates + explored
    assert re.search(rf"improvers scored {explored} further variant", text)
    store = RunStore(run, read_only=True)
    rows = store.query("SELECT DISTINCT candidate FROM iterations WHERE candidate IS NOT NULL")
    store.close()
    assert candidates == len(rows)


def test_a_comparison_report_shows_no_stop_run_fields(tmp_path: Path) -> None:
    run = tmp_path / "cmp"
    shutil.copytree(FIXTURE_RUN, run)
    store = RunStore(run)
    store.set_meta("compare", "{}")
    store.close()
    result = {"improvers": ["seed", "beam"], "tasks": ["maxcut"], "runs": 2}
    (run / "compare.json").write_text(json.dumps(result))
    text = page_text(build_report(run))
    assert "Improver comparison report" in text and "seed, beam" in text
    for stop_field in ("meta-training task", "iterations T", "acceptance", "Meta-utility by"):
        assert stop_field not in text, stop_field


def test_runs_never_cuts_names_into_lookalikes(tmp_path: Path) -> None:
    for name in ("experiment-with-a-long-name-alpha", "experiment-with-a-long-name-beta"):
        shutil.copytree(FIXTURE_RUN, tmp_path / name)
    listed = CliRunner().invoke(app, ["runs", str(tmp_path)], env={"COLUMNS": "80"})
    assert listed.exit_code == 0, listed.output
    flat = listed.output.replace("│", " ")
    for suffix in ("alpha", "beta"):
        assert suffix in flat
    assert "…" not in listed.output
