"""`selftaught report DIR` on an improve run: best score against samples, the lineage of the
best program read back from the prompts, and its diff against the input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.report.improve_data import collect_improve
from test_improve_resume import SOURCE, Counting, improve


def test_report_of_an_improve_run(tmp_path: Path) -> None:
    result = improve(tmp_path, Counting())
    data = collect_improve(tmp_path)
    assert data.attempts[0].source == SOURCE and data.samples == 8
    best = data.best
    assert best.score == result["val_after"] and best.source.strip() == result["program"].strip()
    # the lineage runs from the input to the best, each step a parent shown in the child's prompt
    assert data.lineage[0] == 0 and data.lineage[-1] == best.n
    for parent, child in zip(data.lineage, data.lineage[1:], strict=False):
        assert data.attempts[child].parent == parent
    points = data.best_by_samples()
    assert points[0] == (0, 0.05) and points[-1] == (8, best.score)
    assert [p[1] for p in points] == sorted(p[1] for p in points)
    assert 0 < data.valid_share <= 1

    out = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert f"best validation score {best.score:.4f}" in out.output
    assert "lineage of the best: input -> " in out.output
    page = (tmp_path / "report.html").read_text()
    assert "Lineage of the best program" in page and "best_by_samples.png" in page
    assert "+++ best" in page or "best</span>" in page  # the diff against the input
    assert (tmp_path / "best_by_samples.png").stat().st_size > 1000


def test_an_improve_run_is_listed_and_refused_by_run(tmp_path: Path) -> None:
    improve(tmp_path / "imp", Counting())
    out = CliRunner().invoke(app, ["runs", str(tmp_path), "--json"])
    (info,) = json.loads(out.output)
    assert (info["status"], info["search"]) == ("finished", "improve")
    out = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "imp")])
    assert out.exit_code != 0 and "improve --resume" in out.output
