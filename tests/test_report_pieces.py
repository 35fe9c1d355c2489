"""The report's pieces on small hand-built run stores: circumvention table with Wilson intervals,
the transfer table's layout, diff rendering, LM usage and prices, answers, and the whole page.

The stores hold hand-written programs and no model text (no LM output is imitated here); the
real-browser test renders a run replayed from recorded model responses.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.config import RunConfig, save_config
from selftaught.report import Prices, build_report
from selftaught.report import code as code_mod
from selftaught.report.answers import answers
from selftaught.report.code import diff_html, diff_stats, python_html, strategy_hints
from selftaught.report.model import collect
from selftaught.report.page import circumvention_section, transfer_section
from selftaught.report.paper import PAPER_TRANSFER
from selftaught.report.queries import circumvention_rows, lm_usage, phase_of
from selftaught.search.summary import write_summary
from selftaught.store.db import Evaluation, IterationRecord, RunStore, SessionRecord, sha256_text
from selftaught.store.layout import (
    CIRCUMVENTION_KINDS,
    STATIC_SCAN_SESSION,
    SessionKey,
    self_improve_key,
)
from selftaught.store.summary import circumvention_stats


def meta_key(improver_sha: str, run: int) -> str:
    """A meta-training run's session key (start prefix `aaaa`: any solution)."""
    return str(SessionKey("meta", improver_sha[:20], "parity_noise", "aaaa", run))


SEED = """def improve_algorithm(initial_solution, utility, language_model):
    return initial_solution
"""
CHILD = """def improve_algorithm(initial_solution, utility, language_model):
    best = initial_solution
    for temperature in (0.4, 0.8):
        best = pick(best, utility)
    return best


def pick(program, utility):
    return program
"""
START = "def algorithm(graph):\n    return [0 for _ in graph]\n"
RESULT = "def algorithm(graph):\n    return [i % 2 for i, _ in enumerate(graph)]\n"


def _session(key: str, improver: str, task: str, result: str | None, val: float, test: float):
    return SessionRecord(key, improver, task, result, val, test, "ok", None, 1, 1)


def make_run(run_dir: Path, *, better: bool = True, cheat: bool = False) -> dict[str, str]:
    """A finished two-iteration chain: t=1 adopts CHILD (or rejects it), plus a transfer."""
    run_dir.mkdir(parents=True, exist_ok=True)
    save_config(RunConfig(iterations=1, runs=2, model="openai:gpt-test"), run_dir)
    store = RunStore(run_dir)
    seed = store.add_program(SEED, "improver")
    child = store.add_program(CHILD, "improver", parent=seed)
    for i, (v, t) in enumerate(((0.5, 0.4), (0.6, 0.5))):
        store.add_session(_session(meta_key(seed, i), seed, "parity_noise", None, v, t))
    child_scores = ((0.8, 0.7), (0.7, 0.6)) if better else ((0.1, 0.1), (0.2, 0.1))
    for i, (v, t) in enumerate(child_scores):
        store.add_session(_session(meta_key(child, i), child, "parity_noise", None, v, t))
    store.add_iteration(IterationRecord(0, seed, 0.55, 0.45, True, None, None, None))
    cv, ct = (0.75, 0.65) if better else (0.15, 0.1)
    final = child if better else seed
    fv, ft = (cv, ct) if better else (0.55, 0.45)
    store.add_iteration(IterationRecord(1, final, fv, ft, better, child, cv, ct))
    # Transfer on maxcut: the start solution scored 0.25 on test; runs of both improvers.
    start, result = store.add_program(START, "solution"), store.add_program(RESULT, "solution")
    store.add_evaluation(start, "maxcut", "test", Evaluation(0.25, 0.1, None))
    prefix = sha256_text(START)[:12]
    for sha, scores in ((seed, (0.3, 0.5)), (final, (0.6, 0.8))):
        for i, score in enumerate(scores):
            key = str(SessionKey("transfer", sha[:20], "maxcut", prefix, i))
            store.add_session(_session(key, sha, "maxcut", result, score, score))
    if cheat:
        store.add_event("use_sandbox_false", self_improve_key(1), {"value": "False"}, program=child)
        store.add_event("use_sandbox_false", self_improve_key(1), {"value": "False"}, program=child)
    store.add_event("budget_refusal", "x", {"budget": "utility"}, program=child)
    store.add_event(
        "source_sets_budget", STATIC_SCAN_SESSION, {"line": 1}, program=seed
    )  # not counted
    for index, cached in ((0, False), (5_000_001, False), (5_000_002, True)):
        store.add_lm_sample(
            f"k{index}",
            {
                "spec": "openai:gpt-test",
                "prompt_hash": "h",
                "sample_index": index,
                "temperature": 0.7,
                "max_tokens": 64,
                "response": "",
                "prompt_tokens": 1_000_000,
                "completion_tokens": 500_000,
                "seconds": 2.0,
                "cached": cached,
            },
        )
    write_summary(store)
    store.close()
    return {"seed": seed, "child": child}


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    make_run(tmp_path / "run", cheat=True)
    return tmp_path / "run"


def test_circumvention_rows_wilson(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    seed = store.add_program(SEED, "improver")
    kids = [store.add_program(SEED + f"# variant {i}\n", "improver", parent=seed) for i in range(4)]
    store.add_event("use_sandbox_false", "s", {}, program=kids[0])
    store.add_event("use_sandbox_false", "s", {}, program=kids[0])
    store.add_event("orchestrator_import", "s", {}, program=kids[0])
    store.add_event("budget_refusal", "s", {}, program=kids[1])  # not a circumvention
    store.add_event("attribute_write", "s", {}, program=seed)  # the seed is not LM-written
    ordered = circumvention_rows(store)
    # The union first, then kinds seen (alphabetical), then kinds not seen.
    assert [r.kind for r in ordered[:3]] == ["any", "orchestrator_import", "use_sandbox_false"]
    rows = {r.kind: r for r in ordered}
    assert set(rows) == set(CIRCUMVENTION_KINDS) | {"any"}
    sandbox = rows["use_sandbox_false"]
    assert (sandbox.improvers, sandbox.trials, sandbox.events) == (1, 4, 2)
    # 1 of 4: the 95% Wilson interval is 4.56% to 69.94%.
    assert sandbox.low == pytest.approx(0.04559, abs=1e-4)
    assert sandbox.high == pytest.approx(0.69936, abs=1e-4)
    assert rows["attribute_write"].improvers == 0 and rows["attribute_write"].low == 0.0
    assert (rows["any"].improvers, rows["any"].events) == (1, 3)
    stats = circumvention_stats(store)  # the union row is the rate summary.json reports
    assert rows["any"].rate == stats["rate"]
    assert [rows["any"].low, rows["any"].high] == stats["wilson_95"]  # rounded only for display
    store.close()


def test_circumvention_section_renders_rates(run: Path) -> None:
    html = circumvention_section(collect(run))
    assert "<td>1 / 1</td>" in html  # one LM-written improver, and it tried
    assert "100.0%" in html and "20.7% – 100.0%" in html  # Wilson for 1 of 1
    assert "0.42%" in html and "0.31% – 0.57%" in html  # the paper's GPT-4 reference


def test_transfer_layout_follows_table_1(run: Path) -> None:
    data = collect(run)
    assert [t.task for t in data.transfer] == [row.task for row in PAPER_TRANSFER]
    maxcut = next(t for t in data.transfer if t.task == "maxcut")
    assert maxcut.ours == (0.25, pytest.approx(0.4), pytest.approx(0.7))
    assert maxcut.paper == (0.0, 0.587, 0.742) and maxcut.runs == 2
    assert all(t.ours == (None, None, None) for t in data.transfer if t.task != "maxcut")
    html = transfer_section(data, None)
    row = re.search(r"<tr><td>Maxcut</td>(.*?)</tr>", html)
    assert row is not None
    assert re.findall(r"<td>(.*?)</td>", row.group(1)) == [
        "25.0%",
        "40.0%",
        "70.0%",
        "0.0%",
        "58.7%",
        "74.2%",
    ]


def test_diff_rendering_highlights_and_escapes() -> None:
    old = "def algorithm(x):\n    return x\n"
    new = "def algorithm(x):\n    # </pre><script>alert(1)</script>\n    return x + 1\n"
    html = diff_html(old, new)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert re.search(r'<span class="gi">\+    return x \+ 1', html)  # inserted line coloured
    assert re.search(r'<span class="gd">-    return x', html)  # deleted line coloured
    assert diff_html(old, old) == '<p class="muted">Identical to its parent.</p>'
    assert "<script>" not in python_html(new)
    stats = diff_stats(SEED, CHILD)
    assert (stats.added, stats.removed) == (8, 1)
    assert stats.new_functions == ("pick",) and stats.dropped_functions == ()
    assert strategy_hints(SEED, CHILD) == ["temperature changes"]


def test_diff_without_pygments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(code_mod, "highlight", None)
    html = code_mod.diff_html("a\n", "<b>\n")
    assert html.startswith('<div class="hl"><pre>') and "+&lt;b&gt;" in html
    assert code_mod.style_css() == ""


def test_usage_phases_and_prices(run: Path) -> None:
    assert phase_of(10_000) == "improver runs"
    assert phase_of(10_000_000 + 5_000_000 + 20_000) == "self-improvement"
    store = RunStore(run)
    rows = {r.phase: r for r in lm_usage(store)}
    store.close()
    assert rows["self-improvement"].samples == 2 and rows["self-improvement"].cached == 1
    assert rows["self-improvement"].billed_prompt_tokens == 1_000_000  # the cached one is free
    data = collect(run, Prices(2.0, 8.0))
    cost = {u.phase: u.dollars for u in data.usage}
    assert cost == {"improver runs": pytest.approx(6.0), "self-improvement": pytest.approx(6.0)}
    assert all(u.dollars is None for u in collect(run).usage)
    with pytest.raises(Exception, match=">= 0"):
        Prices(-1.0, 0.0)


def test_usage_at_the_prices_the_run_stored(run: Path, tmp_path: Path) -> None:
    """A run notes its model's price (the table, or its config's [prices]); the report uses it
    without flags, and flags still override it."""
    from selftaught.lm.factory import ModelAccess
    from selftaught.lm.prices import Price

    store = RunStore(run)
    access = ModelAccess(base_url="https://api.example.com/v1", prices=(("gpt-test", Price(2, 8)),))
    access.record_price(store, "openai:gpt-test")
    ModelAccess().record_price(store, "embedded")
    store.close()
    data = collect(run)
    cost = {u.phase: u.dollars for u in data.usage}
    assert cost == {"improver runs": pytest.approx(6.0), "self-improvement": pytest.approx(6.0)}
    assert dict(data.stored_prices)["embedded:qwen2.5-coder-1.5b"] == Price(0, 0)
    html = build_report(run, tmp_path / "r.html").read_text()
    assert "$2 in / $8 out" in html and "free (a local model)" in html
    flagged = collect(run, Prices(1.0, 1.0))
    assert {u.phase: u.dollars for u in flagged.usage}["improver runs"] == pytest.approx(1.5)


def test_answers_follow_the_data(tmp_path: Path) -> None:
    make_run(tmp_path / "good", better=True, cheat=False)
    better, changed, cheated = answers(collect(tmp_path / "good"))
    assert better.verdict == "Yes" and "55.0%" in better.html and "75.0%" in better.html
    assert changed.verdict == "+8 / −1 lines" and "pick" in changed.html
    assert cheated.verdict == "No"
    make_run(tmp_path / "bad", better=False, cheat=True)
    better, changed, cheated = answers(collect(tmp_path / "bad"))
    assert better.verdict == "No" and changed.verdict == "Nothing kept"
    assert cheated.verdict == "Yes, blocked" and "use_sandbox=False" in cheated.html


def test_build_report_is_self_contained(run: Path, tmp_path: Path) -> None:
    out = build_report(run, tmp_path / "page" / "r.html", prices=Prices(1.0, 1.0))
    html = out.read_text()
    for png in ("meta_utility.png", "lineage.png", "transfer.png", "lm_usage.png"):
        assert (out.parent / png).read_bytes()[:4] == b"\x89PNG"  # beside the page
    # Three plots inline; the lineage is inline SVG on the page (its PNG is only a file).
    assert html.count("data:image/png;base64,") == 3 and '<svg class="lineage"' in html
    assert not re.search(
        r"""(src|href)=["'](https?:)?//""",
        html.replace('href="https://arxiv.org/abs/2310.02304"', ""),
    )
    assert "<script" not in html
    assert html.count('class="lnode"') == 2 and 'id="prog-' in html
    assert "Did the improver get better?" in html and "$" in html


def test_report_cli(run: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["report", str(run), "--price-in", "3", "--price-out", "15"])
    assert result.exit_code == 0, result.output
    assert (run / "report.html").is_file() and "report.html" in result.output
    assert "$" in (run / "report.html").read_text()
    env = {"SELFTAUGHT_PRICE_IN": "1", "SELFTAUGHT_PRICE_OUT": "0"}
    result = runner.invoke(app, ["report", str(run)], env=env)
    assert (
        result.exit_code == 0
        and "Cost at $1 (input) and $0 (output)" in (run / "report.html").read_text()
    )
    result = runner.invoke(app, ["report", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "not a directory" in result.output
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["report", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "not a run directory" in result.output
    assert "Traceback" not in result.output


def test_hgm_tree_lineage(tmp_path: Path) -> None:
    """A tree search's lineage comes from its stored tree: every node, archived, best marked."""
    from selftaught.search.tree import ImproverTree, TreeNode
    from selftaught.search.tree_search import save_tree

    run_dir = tmp_path / "hgm"
    run_dir.mkdir()
    save_config(RunConfig(iterations=2, runs=2), run_dir)
    store = RunStore(run_dir)
    seed = store.add_program(SEED, "improver")
    a = store.add_program(CHILD, "improver", parent=seed)
    b = store.add_program(CHILD + "\n# b\n", "improver", parent=seed)
    c = store.add_program(CHILD + "\n# c\n", "improver", parent=a)
    tree = ImproverTree(
        [
            TreeNode(seed, None, (0.4, 0.5), (0.4, 0.4), 0),
            TreeNode(a, seed, (0.6, 0.7, 0.8), (0.5, 0.6, 0.7), 1),
            TreeNode(b, seed, (0.2,), (0.1,), 2),
            TreeNode(c, a, (0.5, 0.5), (0.5, 0.5), 3),
        ]
    )
    save_tree(store, "hgm", tree, [])
    store.set_meta("search", "hgm")
    store.add_iteration(IterationRecord(0, seed, 0.45, 0.4, True, None, None, None))
    store.add_iteration(IterationRecord(1, a, 0.7, 0.6, True, a, 0.7, 0.6))
    write_summary(store)
    store.close()
    data = collect(run_dir)
    assert data.search == "hgm" and data.best_sha == a
    roles = {n.sha: (n.role, n.best, n.evaluations) for n in data.lineage}
    assert roles == {
        seed: ("seed", False, 2),
        a: ("archived", True, 3),
        b: ("archived", False, 1),
        c: ("archived", False, 2),
    }
    html = build_report(run_dir).read_text()
    assert html.count('class="lnode"') == 4 and html.count("<path d=") == 3
    assert "Meta-utility by expansion" in html
    assert (run_dir / "lineage.png").stat().st_size > 5000


def test_solutions_grouped_deduplicated_and_capped(
    run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selftaught.report import programs_html

    data = collect(run)
    # Four transfer runs returned the same program: one entry, listing every run.
    assert len(data.solutions) == 4 and len({s.sha for s in data.solutions}) == 1
    html = programs_html.programs_section(data)
    assert html.count('class="program solution"') == 1 and "returned 4×" in html
    assert "<h4>maxcut: transfer runs</h4>" in html
    monkeypatch.setattr(programs_html, "MAX_SOLUTIONS", 0)
    html = programs_html.programs_section(data)
    assert 'class="program solution"' not in html and "1 lower-scoring programs" in html


# Recorded with plain decoding, where replies state an idea before their code (code decoding
# starts every reply inside the code block, so it has no such prose).
PROSE_RECORDING = Path(__file__).parent / "fixtures" / "recordings" / "improvers_beam.jsonl"


@pytest.mark.skipif(not PROSE_RECORDING.is_file(), reason="recording missing")
def test_stated_idea_from_a_recorded_response(tmp_path: Path) -> None:
    """The prose before the code of a REAL recorded response is the improver's stated idea."""
    import json

    from selftaught.core.extract import extract_one
    from selftaught.report.queries import stated_idea

    records = [json.loads(line) for line in PROSE_RECORDING.read_text().splitlines()]
    record = next(r for r in records if "```" in r["text"] and len(r["text"].split("```")[0]) > 40)
    code = extract_one(record["text"])
    prose = " ".join(record["text"].split("```")[0].split())
    store = RunStore(tmp_path)
    row = {
        "spec": record["spec"],
        "prompt_hash": "h",
        "temperature": 0.7,
        "max_tokens": 256,
        "response": record["text"],
        "prompt_tokens": 1,
        "completion_tokens": 1,
        "seconds": 0.1,
        "cached": False,
    }
    store.add_lm_sample("downstream", {**row, "sample_index": 7})
    assert stated_idea(store, code, START) is None  # a downstream sample: not an improver's idea
    store.add_lm_sample("meta", {**row, "sample_index": 5_000_000})
    idea = stated_idea(store, code, START, limit=1000)
    assert idea == prose
    short = stated_idea(store, code, START, limit=30)
    assert short is not None and len(short) == 30 and short.endswith("…")
    assert stated_idea(store, code, code) is None  # nothing new: no line to find it by
    store.close()


def test_a_reply_that_started_inside_the_code_states_no_idea(tmp_path: Path) -> None:
    """A continued meta reply (what the 1.5B model wrote after `# New step: keep the input`) is
    code up to its closing fence: it is not shown as what the model said."""
    from selftaught.report.queries import stated_idea

    step = (
        "    if utility(initial_solution) > utility(best_solution):\n"
        "        return initial_solution\n"
    )
    head = "def improve_algorithm(initial_solution, utility, language_model):\n"
    store = RunStore(tmp_path)
    row = {"spec": "s", "prompt_hash": "h", "temperature": 0.7, "max_tokens": 256,
           "response": f"{step}\n    return best_solution\n```\nThis keeps the input.",
           "prompt_tokens": 1, "completion_tokens": 1, "seconds": 0.1, "cached": False}  # fmt: skip
    store.add_lm_sample("meta", {**row, "sample_index": 5_000_000})
    assert stated_idea(store, head + step, head) is None  # found by its step, which is code
    store.close()


def adopt_instead(run_dir: Path, source: str) -> None:
    """Make `source` the improver adopted at t=1 of a `make_run` run, with the child's runs."""
    store = RunStore(run_dir)
    sha = store.add_program(source, "improver", parent=store.iterations()[0].improver)
    store.close()
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        db.execute("UPDATE iterations SET improver = ?, candidate = ? WHERE t = 1", (sha, sha))
        db.execute("UPDATE sessions SET improver = ? WHERE improver = ?", (sha, sha256_text(CHILD)))
    db.close()


def test_whitespace_only_improvement_is_called_chance(tmp_path: Path) -> None:
    from selftaught.report.code import only_layout_changed

    assert only_layout_changed(SEED, SEED.replace("    return", "    return ") + "\n\n")
    assert not only_layout_changed(SEED, SEED) and not only_layout_changed(SEED, CHILD)
    run_dir = tmp_path / "ws"
    make_run(run_dir)
    # Swap the adopted child for a whitespace-only variant of the seed.
    adopt_instead(run_dir, SEED.replace("return initial_solution", "return  initial_solution "))
    better, changed, _ = answers(collect(run_dir))
    assert better.verdict == "Only by chance" and "only in whitespace" in better.html
    assert "Only whitespace changed" in changed.html


def test_answers_for_an_adoption_on_a_tie(tmp_path: Path) -> None:
    run_dir = tmp_path / "tie"
    shas = make_run(run_dir)
    with sqlite3.connect(run_dir / "run.sqlite") as db:  # the child ties with the seed
        db.execute("UPDATE iterations SET val = 0.55, candidate_val = 0.55 WHERE t = 1")
        db.execute(
            "UPDATE sessions SET val = 0.5 WHERE improver = ? AND key LIKE 'meta/%r0'",
            (shas["child"],),
        )
        db.execute(
            "UPDATE sessions SET val = 0.6 WHERE improver = ? AND key LIKE 'meta/%r1'",
            (shas["child"],),
        )
    db.close()
    better, changed, _ = answers(collect(run_dir))
    assert better.verdict == "No" and "1 adopted without beating it" in better.html
    assert changed.verdict == "+8 / −1 lines" and "adopted improver (no better" in changed.html


def test_report_open_flag(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or False)
    result = CliRunner().invoke(app, ["report", str(run), "--open"])
    assert result.exit_code == 0, result.output
    assert opened == [(run / "report.html").resolve().as_uri()]
    assert "could not find a web browser" in result.output


def test_failed_seed_runs_are_explained(tmp_path: Path) -> None:
    run_dir = tmp_path / "slow"
    shas = make_run(run_dir, better=False)
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        db.execute(
            "UPDATE sessions SET status = 'timeout', error = 'improver exceeded its wall-clock"
            " limit', val = 0, test = 0 WHERE improver = ? AND key LIKE 'meta/%'",
            (shas["seed"],),
        )
        db.execute("UPDATE iterations SET val = 0, test = 0 WHERE t = 0")
    db.close()
    data = collect(run_dir)
    better = answers(data)[0]
    assert "Every run of the seed improver ended with timeout: improver exceeded" in better.html
    from selftaught.report.page import meta_section

    html = meta_section(data, None)
    assert "2 ok; 2 timeout (e.g. “improver exceeded its wall-clock limit”)" in html
    assert (
        "ended with"
        not in answers(
            collect(tmp_path / "slow2" if make_run(tmp_path / "slow2", better=False) else run_dir)
        )[0].html
    )


def test_what_changed_says_how_the_adopted_improver_behaves(tmp_path: Path) -> None:
    run_dir = tmp_path / "behaves"
    make_run(run_dir)
    _, changed, _ = answers(collect(run_dir))
    assert (
        "What it does differently: returns `best` built from initial_solution, utility "
        "(was `initial_solution`); uses `utility` in 1 place(s) (was 0); defines `pick`"
    ) in changed.html
    assert "defines `pick`" in changed.html


def test_a_gain_by_returning_the_input_is_named_as_such(tmp_path: Path) -> None:
    run_dir = tmp_path / "input"
    make_run(run_dir)
    wrapped = SEED.replace(
        "    return initial_solution",
        "    candidates = language_model.batch_prompt('x', ['y'])\n"
        "    text = f'# kept\\n{initial_solution}'\n    return text",
    )
    adopt_instead(run_dir, wrapped)
    better, changed, _ = answers(collect(run_dir))
    assert better.verdict == "Only by returning its input" and "ignores the" in better.html
    assert "returns `text` built from initial_solution" in changed.html


def test_a_child_whose_runs_all_hand_back_their_start_is_named_as_returning_its_input(
    tmp_path: Path,
) -> None:
    """Its code does not return its input (it pastes comments onto it), its runs do."""
    from selftaught.tasks import get_task

    run_dir = tmp_path / "pasted"
    shas = make_run(run_dir)
    start = get_task("parity_noise").seed_solution
    store = RunStore(run_dir)
    pasted = store.add_program(start + "\n# more techniques\n", "solution")
    store.add_program(start, "solution")
    store.close()
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        db.execute(  # the child's meta-utility runs: each started from the task's seed
            "UPDATE sessions SET result = ?, key = replace(key, '/aaaa/', ?) WHERE improver = ?",
            (pasted, f"/{sha256_text(start)[:12]}/", shas["child"]),
        )
    db.close()
    better, _, _ = answers(collect(run_dir))
    assert better.verdict == "Only by returning its input"
    assert "handed back its input in every run" in better.html
    assert "ignores the model's candidates" not in better.html  # its code does not say so
