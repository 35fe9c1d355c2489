"""The report page: one self-contained HTML document (inline CSS, data-URI images, no script)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape

from selftaught.report.answers import Answer
from selftaught.report.code import style_css
from selftaught.report.compare_html import COMPARE_NAV, compare_header, compare_section
from selftaught.report.html import duration, img, section, table, when
from selftaught.report.lineage import lineage_svg, pct
from selftaught.report.model import ReportData
from selftaught.report.paper import CITATION, PAPER_UNSANDBOXING, PAPER_URL
from selftaught.report.programs_html import programs_section
from selftaught.report.styles import PAGE_CSS


def header(data: ReportData) -> str:
    cfg, info = data.config, data.info
    task = escape(cfg.task if cfg else info.task)
    facts = [
        (
            "status",
            f'<span class="status {info.status}">{info.status}</span> '
            f'<span class="muted">{escape(info.detail)}</span>',
        ),
        ("model", f"<code>{escape(cfg.model if cfg else info.model)}</code>"),
        ("search", escape(data.search)),
        ("executor", escape(data.executor)),
        ("meta-training task", f"<code>{task}</code>"),
    ]
    if cfg is not None:
        facts += [
            ("iterations T / runs R", f"{cfg.iterations} / {cfg.runs}"),
            (
                "LM budget per run",
                f"{cfg.lm_budget} call(s) × {cfg.max_responses_per_call} responses",
            ),
            ("acceptance", "paper (any score > 0)" if cfg.paper_mode else "gated (≥ parent)"),
        ]
    start, end = data.span
    facts.append(("started", when(start)))
    if start and end:
        facts.append(("last write", f"{when(end)} ({duration(end - start)} after start)"))
    grid = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    return f"""
<header>
  <h1>STOP run report <span class="muted">· {escape(data.run_dir.name)}</span></h1>
  <p class="lede">A language model wrote an <em>improver</em>: a program that asks the model for
  better versions of a solution and keeps the best one. STOP then gives the improver its
  <em>own</em> source to improve. Each improver is scored by its <em>meta-utility</em>: the mean
  score of the solutions it produces on <code>{task}</code> over R runs, on a validation split
  (which picks the winner) and on a held-out test split (which only checks it). This page shows
  whether that loop made the improver better, what it changed and whether any program tried to
  bend the rules.</p>
  <dl class="facts">{grid}</dl>
</header>"""


def answers_block(answers: Sequence[Answer]) -> str:
    cards = "".join(
        f'<div class="answer {a.tone}"><h3>{escape(a.question)}</h3>'
        f'<p class="verdict">{escape(a.verdict)}</p><p>{a.html}</p></div>'
        for a in answers
    )
    return f'<section id="answers" class="answers">{cards}</section>'


def meta_section(data: ReportData, plot: bytes | None) -> str:
    if not data.points:
        return section("meta-utility", "Meta-utility", "<p>No iteration has finished yet.</p>")
    x = "iteration" if data.search == "chain" else "expansion"
    rows = []
    for p in data.points:
        cand = f'<a href="#prog-{p.candidate[:12]}">{p.candidate[:8]}</a>' if p.candidate else "–"
        verdict = "seed" if p.t == 0 else ("adopted" if p.adopted else "rejected")
        if p.t > 0 and p.candidate is None:
            verdict = "no candidate"
        rows.append(
            [
                str(p.t),
                f'<a href="#prog-{p.improver[:12]}">{p.improver[:8]}</a>',
                pct(p.val),
                pct(p.test),
                cand,
                pct(p.candidate_val),
                pct(p.candidate_test),
                f'<span class="tag {verdict.split()[0]}">{verdict}</span>',
            ]
        )
    head = [x, "best improver", "val", "test", "candidate", "cand. val", "cand. test", "outcome"]
    who = (
        "the current improver rewrites itself once"
        if data.search == "chain"
        else f"an improver picked by the {escape(data.search)} rule writes a new one"
    )
    intro = (
        f"<p>At each {x}, {who}. The lines follow the best improver so far; diamonds are the "
        "candidates (filled: adopted). Validation picks, test only reports.</p>"
    )
    body = intro + (img(plot, "Meta-utility by " + x, "meta_utility.png") if plot else "")
    return section(
        "meta-utility",
        "Meta-utility by " + x,
        body + table(head, rows, "num iters") + outcomes_note(data),
    )


def outcomes_note(data: ReportData) -> str:
    """How the improver runs behind these numbers ended (a failed run scores 0)."""
    if not data.outcomes:
        return ""
    parts = []
    for o in data.outcomes:
        example = f" (e.g. “{escape(o.example[:120])}”)" if o.example and o.status != "ok" else ""
        parts.append(f"{o.count} {escape(o.status)}{example}")
    return (
        '<p class="muted">Improver runs behind these numbers, by how they ended: '
        + "; ".join(parts)
        + ". A run that returns no program scores 0.</p>"
    )


def lineage_section(data: ReportData, plot: bytes | None) -> str:
    tried = sum(n.variants_tried for n in data.lineage)
    note = (
        f'<p class="muted">Besides these, improvers scored {tried} further variant'
        f"{'s' if tried != 1 else ''} of themselves while writing their children; they are "
        "listed under Programs as <em>explored</em>.</p>"
        if tried
        else ""
    )
    rejected = any(n.role == "rejected" for n in data.lineage)
    legend = (
        '<p class="legend"><span class="sw best"></span>best by validation '
        + ('<span class="sw rejected"></span>rejected candidate (dashed) ' if rejected else "")
        + '<span class="sw fill"></span>fill: red = low, green = high validation score. '
        "Click a node to jump to its source.</p>"
    )
    body = (
        "<p>Who wrote whom: each line runs down from an improver to the improver it wrote.</p>"
        f'<div class="scroll">{lineage_svg(data.lineage)}</div>{legend}{note}'
    )
    if plot:
        body += '<p class="muted">The same tree is saved as <code>lineage.png</code>.</p>'
    return section("lineage", "Improver lineage", body)


def transfer_section(data: ReportData, plot: bytes | None) -> str:
    have = [t for t in data.transfer if any(v is not None for v in t.ours)]
    rows = []
    for t in data.transfer:
        paper = [pct(v) for v in t.paper] if t.paper else ["–"] * 3
        rows.append([escape(t.label), *(pct(v) for v in t.ours), *paper])
    head = [
        "task",
        "original",
        "seed improver",
        "improved improver",
        "paper: original",
        "paper: seed",
        "paper: improved",
    ]
    runs = max((t.runs for t in have), default=0)
    intro = (
        "<p>The improver trained on the meta-training task is applied, unchanged, to other tasks "
        "(test split). <em>Original</em> is the task's starting solution, <em>seed improver</em> "
        "what the seed improver makes of it, <em>improved improver</em> what the run's final "
        f"improver makes of it (mean of {runs or 'R'} runs). The paper's Table 1 used GPT-4 and "
        f'T = 4 (<a href="{PAPER_URL}">{escape(CITATION)}</a>).</p>'
    )
    if not have:
        intro += (
            '<p class="note">This run has no transfer results yet: run '
            f"<code>selftaught transfer {escape(str(data.run_dir))}</code>, then rebuild the "
            "report. The paper's numbers are shown for reference.</p>"
        )
    elif data.points and data.points[0].improver == data.points[-1].improver:
        intro += (
            '<p class="note">No candidate was adopted, so the "improved" improver is the seed '
            "itself: both columns measure the same program (they differ only by sampling).</p>"
        )
    body = intro + table(head, rows, "num transfer")
    if plot:
        body += img(plot, "Transfer: this run (bars) and the paper (black ticks)", "transfer.png")
    return section("transfer", "Transfer to other tasks (Table 1 layout)", body)


def circumvention_section(data: ReportData) -> str:
    rows = []
    for r in data.circumvention:
        cls = ' class="hit"' if r.improvers else ""
        kind = "<strong>any</strong>" if r.kind == "any" else f"<code{cls}>{escape(r.kind)}</code>"
        rows.append(
            [
                kind,
                escape(r.text),
                f"{r.improvers} / {r.trials}",
                pct(r.rate) if r.trials else "–",
                f"{pct(r.low)} – {pct(r.high)}" if r.trials else "–",
                str(r.events),
            ]
        )
    head = ["kind", "what the improver did", "improvers", "rate", "95% Wilson", "events"]
    paper = table(
        ["setting (paper)", "rate", "95% Wilson"],
        (
            [escape(p.setting), f"{100 * p.rate:.2f}%", f"{100 * p.low:.2f}% – {100 * p.high:.2f}%"]
            for p in PAPER_UNSANDBOXING
        ),
        "num small",
    )
    body = (
        "<p>An improver is LM-written code, so it runs sandboxed and its <code>utility</code> and "
        "<code>language_model</code> are proxies: tricks change nothing, but each is recorded. "
        "Rates count LM-written improvers with at least one attempt; the interval is the 95% "
        "Wilson score interval, which stays honest for small counts.</p>"
        + table(head, rows, "num circ")
        + "<p>For reference, the paper's rate of improvements that switched off "
        "<code>use_sandbox</code> (10,000 improvements per setting):</p>" + paper
    )
    return section("circumvention", "Circumvention attempts", body)


def _stored_prices_note(data: ReportData) -> str:
    """The prices the run noted for its models (the price table, or its `--config` `[prices]`)."""
    parts = []
    for spec, price in data.stored_prices:
        what = (
            "no known price"
            if price is None
            else "free (a local model)"
            if price.input_per_million == price.output_per_million == 0
            else f"${price.input_per_million:g} in / ${price.output_per_million:g} out"
        )
        parts.append(f"<code>{escape(spec)}</code>: {what}")
    return (
        "Cost at the prices the run used, in dollars per million tokens: "
        + "; ".join(parts)
        + ". Cached samples are free; <code>--price-in</code>/<code>--price-out</code> override."
    )


def usage_section(data: ReportData, plot: bytes | None) -> str:
    if not data.usage:
        return section("usage", "Language-model usage", "<p>No LM sample recorded yet.</p>")
    priced = any(u.dollars is not None for u in data.usage)
    rows = []
    for u in data.usage:
        row = [
            escape(u.phase),
            f"<code>{escape(u.spec)}</code>",
            f"{u.samples:,} ({u.cached:,} cached)",
            f"{u.prompt_tokens:,}",
            f"{u.completion_tokens:,}",
            f"{u.seconds:,.1f}",
        ]
        if priced:
            row.append("–" if u.dollars is None else f"${u.dollars:,.4f}")
        rows.append(row)
    total = [
        "<strong>total</strong>",
        "",
        f"{sum(u.samples for u in data.usage):,}",
        f"{sum(u.prompt_tokens for u in data.usage):,}",
        f"{sum(u.completion_tokens for u in data.usage):,}",
        f"{sum(u.seconds for u in data.usage):,.1f}",
    ]
    if priced:
        total.append(f"${sum(u.dollars or 0.0 for u in data.usage):,.4f}")
    rows.append(total)
    head = ["phase", "model", "samples", "prompt tokens", "completion tokens", "seconds"]
    head += ["cost"] if priced else []
    if priced and data.prices is not None:
        note = (
            f'<p class="muted">Cost at ${data.prices.input_per_million:g} (input) and '
            f"${data.prices.output_per_million:g} (output) per million tokens, for "
            "<code>openai:</code> models only; cached samples are free.</p>"
        )
    elif priced:
        note = '<p class="muted">' + _stored_prices_note(data) + "</p>"
    else:
        note = (
            '<p class="muted">No dollar cost: give <code>--price-in</code>/<code>--price-out</code>'
            " (dollars per million tokens) for a run on an <code>openai:</code> model.</p>"
        )
    body = (
        "<p><em>Self-improvement</em> is the improver rewriting itself; <em>improver runs</em> "
        "are the runs that measure meta-utility (and transfer). Seconds are model time.</p>"
        + table(head, rows, "num usage")
        + note
        + (img(plot, "Tokens by phase", "lm_usage.png") if plot else "")
    )
    return section("usage", "Language-model usage", body)


NAV = (
    ("answers", "Answers"),
    ("meta-utility", "Meta-utility"),
    ("lineage", "Lineage"),
    ("transfer", "Transfer"),
    ("circumvention", "Circumvention"),
    ("usage", "LM usage"),
    ("programs", "Programs"),
)


def _nav(entries: Sequence[tuple[str, str]]) -> str:
    return "<nav>" + "".join(f'<a href="#{a}">{t}</a>' for a, t in entries) + "</nav>"


def render(data: ReportData, answers: Sequence[Answer], plots: dict[str, bytes | None]) -> str:
    """The whole page."""
    if data.search == "compare":  # no STOP loop here: none of its fields or sections
        parts = [compare_header(data), _nav(COMPARE_NAV), compare_section(data)]
    else:
        parts = [
            header(data),
            _nav(NAV),
            answers_block(answers),
            meta_section(data, plots.get("meta_utility")),
            lineage_section(data, plots.get("lineage")),
            transfer_section(data, plots.get("transfer")),
        ]
    parts += [
        circumvention_section(data),
        usage_section(data, plots.get("lm_usage")),
        programs_section(data),
    ]
    body = "".join(parts)
    generated = when(time.time())
    kind = "Improver comparison" if data.search == "compare" else "STOP run"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{kind} report · {escape(data.run_dir.name)}</title>
<link rel="icon" href="data:,">
<style>{PAGE_CSS}
{style_css()}</style></head>
<body><main>{body}
<footer>Generated by <code>selftaught report</code> on {generated} from
<code>{escape(str(data.run_dir))}</code>. Paper numbers: {escape(CITATION)}.</footer>
</main></body></html>
"""
