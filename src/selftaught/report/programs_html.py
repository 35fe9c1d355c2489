"""The report's program sections: every improver, and the solution each improver run returned,
with its source and its diff against its parent (collapsed, so the page stays scannable)."""

from __future__ import annotations

from collections import defaultdict
from html import escape

from selftaught.report.code import diff_html, diff_stats, python_html
from selftaught.report.lineage import pct
from selftaught.report.model import ImproverEntry, ReportData, SolutionEntry

ROLE_TEXT = {
    "seed": "the seed improver, written by hand",
    "adopted": "written by its parent and adopted",
    "rejected": "written by its parent, rejected (it did not beat its parent)",
    "archived": "written by its parent, kept in the archive",
    "explored": "a variant its parent scored while improving itself (not returned)",
}


def _link(sha: str | None) -> str:
    return f'<a href="#prog-{sha[:12]}"><code>{sha[:8]}</code></a>' if sha else "–"


def _source_block(source: str, open_: bool) -> str:
    if not source.strip():
        return '<p class="muted">The program is empty.</p>'
    lines = len(source.splitlines())
    flag = " open" if open_ else ""
    return (
        f"<details{flag}><summary>source ({lines} lines)</summary>{python_html(source)}</details>"
    )


def _improver(entry: ImproverEntry, best: str | None) -> str:
    runs = entry.runs
    score = (
        f"val {pct(runs.val_mean)} · test {pct(runs.test_mean)} over {len(runs.val)} run"
        f"{'s' if len(runs.val) != 1 else ''}"
        if runs.val
        else "not scored"
    )
    step = f"t={entry.step} · " if entry.step else ""
    change = ""
    body = [f"<p>{escape(ROLE_TEXT.get(entry.role, entry.role))}."]
    if entry.parent:
        body.append(f" Parent: {_link(entry.parent)}.")
    if entry.idea:
        body.append(f' The model\'s stated idea: <q class="idea">{escape(entry.idea)}</q>')
    body.append(f' <span class="muted">sha256 {entry.sha}</span></p>')
    if entry.parent_source is not None:
        stats = diff_stats(entry.parent_source, entry.source)
        change = f' · <span class="delta">+{stats.added} −{stats.removed}</span>'
        body.append("<h4>Diff against its parent</h4>")
        body.append(diff_html(entry.parent_source, entry.source, "parent", "this improver"))
    body.append(_source_block(entry.source, open_=entry.parent_source is None))
    star = ' <span class="tag best">best</span>' if entry.sha == best else ""
    return (
        f'<details class="program" id="prog-{entry.sha[:12]}"'
        f"{' open' if entry.sha == best and entry.parent else ''}>"
        f'<summary><span class="tag {entry.role}">{entry.role}</span>{star} {step}'
        f"<code>{entry.sha[:8]}</code> · {score}{change}</summary>"
        f'<div class="inner">{"".join(body)}</div></details>'
    )


def _solution(entries: list[SolutionEntry]) -> str:
    """One returned program, with every run that returned it."""
    first = entries[0]
    runs = ", ".join(
        f"<code>{escape(e.run.key)}</code> ({_link(e.run.improver)}, {escape(e.run.status)})"
        for e in entries
    )
    body = [f'<p>Returned by run {runs}. <span class="muted">sha256 {first.sha}</span></p>']
    change = ""
    if first.start_source is not None:
        stats = diff_stats(first.start_source, first.source)
        change = f' · <span class="delta">+{stats.added} −{stats.removed}</span>'
        body.append("<h4>Diff against the starting solution</h4>")
        body.append(diff_html(first.start_source, first.source, "start", "returned"))
    body.append(_source_block(first.source, open_=False))
    improvers = sorted({e.run.improver[:8] for e in entries})
    times = f" · returned {len(entries)}×" if len(entries) > 1 else ""
    return (
        '<details class="program solution">'
        f"<summary><code>{first.sha[:8]}</code> · improver {', '.join(improvers)}{times}"
        f" · val {pct(first.run.val)} · test {pct(first.run.test)}{change}</summary>"
        f'<div class="inner">{"".join(body)}</div></details>'
    )


def _solution_group(entries: list[SolutionEntry]) -> list[str]:
    """Distinct programs of one group, best validation first, at most `MAX_SOLUTIONS`."""
    by_sha: dict[str, list[SolutionEntry]] = defaultdict(list)
    for e in entries:
        by_sha[e.sha].append(e)
    ranked = sorted(by_sha.values(), key=lambda es: (-es[0].run.val, -es[0].run.test))
    html = [_solution(es) for es in ranked[:MAX_SOLUTIONS]]
    if len(ranked) > MAX_SOLUTIONS:
        html.append(
            f'<p class="muted">{len(ranked) - MAX_SOLUTIONS} lower-scoring programs of this group '
            "are not shown; all are in <code>run.sqlite</code>.</p>"
        )
    return html


MAX_SOLUTIONS = 30  # per task and purpose: a paper-scale run returns hundreds


PURPOSE_TEXT = {
    "meta": "meta-training runs (they measure meta-utility)",
    "transfer": "transfer runs",
    "compare": "comparison runs",
    "improve": "single improvements",
}


def programs_section(data: ReportData) -> str:
    parts = [
        '<section id="programs"><h2>Programs</h2>',
        "<p>Every improver, then the solution each improver run returned. Open an entry for "
        "its diff against its parent and its full source.</p>",
        f"<h3>Improvers ({len(data.improvers)})</h3>",
    ]
    parts += [_improver(e, data.best_sha) for e in data.improvers]
    groups: dict[tuple[str, str], list[SolutionEntry]] = defaultdict(list)
    for s in data.solutions:
        groups[(s.run.purpose, s.run.task)].append(s)
    parts.append(f"<h3>Solutions returned by improver runs ({len(data.solutions)})</h3>")
    for (purpose, task), entries in sorted(groups.items()):
        label = PURPOSE_TEXT.get(purpose, purpose)
        parts.append(f"<h4>{escape(task)}: {escape(label)}</h4>")
        parts += _solution_group(entries)
    if data.other_solutions:
        parts.append(
            f'<p class="muted">{data.other_solutions} further candidate solutions were scored '
            "inside improver runs; they are stored in <code>run.sqlite</code> (table "
            "<code>programs</code>) and not shown here.</p>"
        )
    parts.append("</section>")
    return "".join(parts)
