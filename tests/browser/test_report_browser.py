"""The report of a recorded run, opened in a real headless Chromium.

The run is `tests/fixtures/report_run/`: a real STOP run of the embedded Qwen2.5-Coder-0.5B model
(T=2, R=2) plus `transfer` on maxcut, whose model exchanges are recorded in
`tests/fixtures/recordings/report_run.jsonl` (see `make_report_fixture.py` to rebuild it). The
page must load with no console error, request nothing beyond itself, and show its plots, tables
and lineage. Screenshots go to `test-artifacts/`.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from chromium_cdp import Browser, chromium_binary
from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.store.layout import CIRCUMVENTION_KINDS

TESTS = Path(__file__).resolve().parents[1]
ARTIFACTS = TESTS.parent / "test-artifacts"
FIXTURE = TESTS / "fixtures" / "report_run"

pytestmark = [
    pytest.mark.skipif(
        chromium_binary() is None,
        reason="chromium is not installed (scripts/install-sysdeps.sh installs it as root)",
    ),
    pytest.mark.timeout(600),
]

PAGE_FACTS = """(() => {
  const cells = (row) => [...row.cells].map(c => c.textContent.trim());
  return {
    title: document.title,
    status: document.querySelector('.status').textContent,
    sections: [...document.querySelectorAll('section[id]')].map(s => s.id),
    answers: [...document.querySelectorAll('.answer')].map(a => ({
      question: a.querySelector('h3').textContent, verdict: a.querySelector('.verdict').textContent,
      text: a.querySelector('p:last-child').textContent})),
    images: [...document.images].map(i => ({alt: i.alt, width: i.naturalWidth,
      height: i.naturalHeight, inline: i.src.startsWith('data:image/png;base64,')})),
    tables: [...document.querySelectorAll('table')].map(t => ({
      cls: t.className, head: cells(t.tHead.rows[0]), rows: [...t.tBodies[0].rows].map(cells)})),
    lineage: [...document.querySelectorAll('svg.lineage a.lnode')].map(a => a.dataset.sha),
    lineageBox: (() => { const s = document.querySelector('svg.lineage');
      return s ? [s.getBoundingClientRect().width, s.getBoundingClientRect().height] : null; })(),
    edges: document.querySelectorAll('svg.lineage path').length,
    programs: [...document.querySelectorAll('details.program')].map(d => d.id),
    highlighted: document.querySelectorAll('.hl span').length,
    resources: [...document.querySelectorAll('[src], link[href], script')]
      .map(e => e.getAttribute('src') || e.getAttribute('href') || 'inline script'),
  };
})()"""


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert (FIXTURE / "run.sqlite").is_file(), f"fixture run missing: {FIXTURE}"
    run_dir = tmp_path_factory.mktemp("run") / "report_run"
    shutil.copytree(FIXTURE, run_dir)
    return run_dir


@pytest.fixture(scope="module")
def page(recorded_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["report", str(recorded_run)])
    assert result.exit_code == 0, result.output
    report = recorded_run / "report.html"
    assert report.is_file()
    profile = tmp_path_factory.mktemp("chromium") / "profile"
    with Browser(profile) as browser:
        browser.open(report.resolve().as_uri())
        facts = browser.evaluate(PAGE_FACTS)
        browser.screenshot(ARTIFACTS / "report.png")
        browser.evaluate("document.getElementById('lineage').scrollIntoView()")
        browser.screenshot(ARTIFACTS / "report-lineage.png")
        facts["problems"] = browser.problems()
        facts["requests"] = browser.requested_urls()
    facts["summary"] = json.loads((recorded_run / "summary.json").read_text())
    return dict(facts)


def _table(page: dict[str, Any], cls: str) -> dict[str, Any]:
    matches = [t for t in page["tables"] if cls in t["cls"].split()]
    assert len(matches) == 1, [t["cls"] for t in page["tables"]]
    return dict(matches[0])


def test_page_loads_cleanly_and_offline(page: dict[str, Any]) -> None:
    assert page["problems"] == []
    # Only the page itself (and its data: images) is loaded: nothing from the network.
    assert all(u.startswith(("file:", "data:")) for u in page["requests"]), page["requests"]
    assert all(r.startswith("data:") for r in page["resources"]), page["resources"]
    assert page["title"].startswith("STOP run report")
    assert page["status"] == "finished"  # a copied run: nothing holds it open


def test_three_answers_at_the_top(page: dict[str, Any]) -> None:
    assert page["sections"][0] == "answers"
    questions = [a["question"] for a in page["answers"]]
    assert questions == [
        "Did the improver get better?",
        "What did it change?",
        "Did anything try to cheat?",
    ]
    assert all(a["verdict"].strip() and len(a["text"]) > 20 for a in page["answers"])


def test_plots_are_embedded_and_decoded(page: dict[str, Any]) -> None:
    by_alt = {i["alt"]: i for i in page["images"]}
    for alt in (
        "Meta-utility by iteration",
        "Tokens by phase",
        "Transfer: this run (bars) and the paper (black ticks)",
    ):
        assert alt in by_alt, list(by_alt)
        assert by_alt[alt]["inline"] and by_alt[alt]["width"] > 300 and by_alt[alt]["height"] > 100


def test_tables_match_the_run(page: dict[str, Any]) -> None:
    summary = page["summary"]
    meta = _table(page, "iters")
    assert [row[0] for row in meta["rows"]] == [str(it["t"]) for it in summary["iterations"]]
    transfer = _table(page, "transfer")
    assert transfer["head"][:4] == ["task", "original", "seed improver", "improved improver"]
    assert transfer["head"][4:] == ["paper: original", "paper: seed", "paper: improved"]
    maxcut = next(row for row in transfer["rows"] if row[0] == "Maxcut")
    assert all(re.fullmatch(r"\d+\.\d%", cell) for cell in maxcut[1:4]), maxcut
    assert maxcut[4:] == ["0.0%", "58.7%", "74.2%"]
    circ = _table(page, "circ")
    assert len(circ["rows"]) == len(CIRCUMVENTION_KINDS) + 1
    attempts = summary["circumvention"]["attempts"]
    improvements = summary["circumvention"]["improvements"]
    assert circ["rows"][0][0] == "any"  # the headline rate first, as summary.json has it
    assert circ["rows"][0][2] == f"{attempts} / {improvements}"
    assert re.fullmatch(r"\d+\.\d% – \d+\.\d%", circ["rows"][0][4])
    usage = _table(page, "usage")
    total = usage["rows"][-1]
    assert total[0] == "total" and total[2] == f"{summary['lm']['samples']:,}"


def test_lineage_tree_and_programs(page: dict[str, Any]) -> None:
    summary = page["summary"]
    improvers = {it["improver_sha256"] for it in summary["iterations"]}
    assert improvers <= set(page["lineage"])
    tree = summary.get("tree")
    if tree:
        assert set(page["lineage"]) == {n["sha256"] for n in tree["nodes"]}
    assert page["edges"] == len(page["lineage"]) - 1  # a tree: one edge per non-root node
    assert page["lineageBox"] and page["lineageBox"][0] > 100
    for sha in page["lineage"]:
        assert f"prog-{sha[:12]}" in page["programs"]
    assert page["highlighted"] > 50  # pygments coloured the sources and diffs
    shot = ARTIFACTS / "report.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """The same probes flag a page with console errors, exceptions and network requests."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<img src="http://127.0.0.1:9/x.png" alt="remote">'
        "<script>console.error('broken'); missing_function();</script></body></html>"
    )
    with Browser(tmp_path / "profile") as browser:
        browser.open(bad.resolve().as_uri())
        problems = browser.problems()
        requests = browser.requested_urls()
    assert any(p.startswith("console.error") and "broken" in p for p in problems), problems
    assert any(p.startswith("exception") for p in problems), problems
    assert "http://127.0.0.1:9/x.png" in requests
