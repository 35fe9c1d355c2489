"""The three questions a reader brings to a run, answered in one sentence or two each."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from selftaught.core.change import behaviour_changes
from selftaught.core.meta import IMPROVER_ENTRY
from selftaught.report.code import diff_stats, only_layout_changed, strategy_hints
from selftaught.report.lineage import pct
from selftaught.report.model import ImproverEntry, ReportData
from selftaught.search.summary import input_gain_note


@dataclass(frozen=True)
class Answer:
    question: str
    verdict: str  # a word or two: Yes / No / Not yet / ...
    tone: str  # good | bad | neutral | warn (colours the card)
    html: str  # the explanation (HTML: values are escaped where they come from programs)


def _entry(data: ReportData, sha: str | None) -> ImproverEntry | None:
    return next((e for e in data.improvers if e.sha == sha), None)


def _seed(data: ReportData) -> ImproverEntry | None:
    if data.points:
        return _entry(data, data.points[0].improver)
    return next((e for e in data.improvers if e.role == "seed"), None)


def _best_sha(data: ReportData) -> str | None:
    if data.best_sha:
        return data.best_sha
    if not data.points:
        return None
    return max(data.points, key=lambda p: (p.val, -p.t)).improver


def _score(data: ReportData, sha: str) -> tuple[float, float]:
    node = next((n for n in data.lineage if n.sha == sha), None)
    if node is not None and node.val is not None and node.test is not None:
        return node.val, node.test
    point = next(p for p in data.points if p.improver == sha)
    return point.val, point.test


def _candidates(data: ReportData) -> int:
    """Distinct candidate improvers the loop wrote (one per step that returned one)."""
    return len({p.candidate for p in data.points if p.candidate is not None})


def _written(trials: int, data: ReportData) -> str:
    """`trials` LM-written improvers, split as the rest of the page counts them."""
    candidates = _candidates(data)
    explored = trials - candidates
    if candidates == 0 or explored < 0:
        return f"{trials} LM-written improver{'s' if trials != 1 else ''}"
    parts = [f"{candidates} candidate{'s' if candidates != 1 else ''}"]
    if explored:
        parts.append(f"{explored} explored variant{'s' if explored != 1 else ''}")
    return f"{trials} LM-written improver{'s' if trials != 1 else ''} ({' and '.join(parts)})"


def better(data: ReportData) -> Answer:
    """Did the improver get better? Validation decides; test is the honest check."""
    question = "Did the improver get better?"
    seed, best = _seed(data), _best_sha(data)
    if seed is None or best is None or not data.points:
        return Answer(question, "Not yet", "neutral", "The seed improver is still being scored.")
    seed_val, seed_test = data.points[0].val, data.points[0].test
    candidates = _candidates(data)
    if best == seed.sha:
        if candidates == 0:
            text = f"No candidate improver yet; the seed scores {pct(seed_val)} (validation)."
            return Answer(question, "Not yet", "neutral", text + _seed_failures(data))
        text = (
            f"No candidate beat the seed improver: {candidates} candidate"
            f"{'s' if candidates != 1 else ''} written, none above the seed's "
            f"validation meta-utility of {pct(seed_val)}."
        )
        text += _seed_failures(data)
        ties = sum(1 for p in data.points[1:] if p.adopted and p.candidate is not None)
        if ties:
            text += f" ({ties} adopted without beating it.)"  # the paper's rule, or an older gate
        return Answer(question, "No", "bad", text)
    best_val, best_test = _score(data, best)
    gain_val, gain_test = best_val - seed_val, best_test - seed_test
    if gain_val <= 0:  # only when scores were refined after the fact (tree searches)
        text = (
            f"The best improver's validation meta-utility ({pct(best_val)}) is not above the "
            f"seed's ({pct(seed_val)})." + _seed_failures(data)
        )
        return Answer(question, "No", "bad", text)
    text = (
        f"Validation meta-utility rose from {pct(seed_val)} (seed) to {pct(best_val)} "
        f"({100 * gain_val:+.1f} points). On the held-out test split, which never steers the "
        f"search, it went from {pct(seed_test)} to {pct(best_test)} ({100 * gain_test:+.1f})."
    ) + _seed_failures(data)
    noise = _noise(seed, _entry(data, best))
    runs = len(seed.runs.val)
    best_entry = _entry(data, best)
    if best_entry is not None and only_layout_changed(seed.source, best_entry.source):
        text += (
            " But the best improver differs from the seed only in whitespace: the gain is the luck"
            " of other samples, not a better improver."
        )
        return Answer(question, "Only by chance", "warn", text)
    if noise is not None and noise > 0 and gain_val < 2 * noise:
        text += (
            f" The gain is under twice its standard error ({100 * noise:.1f} points), so it may be"
            " luck of the runs."
        )
    elif 0 < runs < 5:
        text += f" With only R = {runs} runs per improver, treat these numbers as rough."
    if best_entry is not None and best_entry.hands_back_input:
        text += f" But the best improver {input_gain_note(best_entry.hands_back_input)}."
        return Answer(question, "Only by returning its input", "warn", text)
    if gain_test > 0:
        return Answer(question, "Yes", "good", text)
    return Answer(question, "On validation only", "warn", text)


def _seed_failures(data: ReportData) -> str:
    """A sentence when every run of the seed improver failed (why its score is 0)."""
    outcomes = data.seed_outcomes
    if not outcomes or any(o.status == "ok" for o in outcomes):
        return ""
    worst = outcomes[0]
    reason = f": {escape(worst.example[:120])}" if worst.example else ""
    return f" Every run of the seed improver ended with {escape(worst.status)}{reason}."


def _noise(a: ImproverEntry | None, b: ImproverEntry | None) -> float | None:
    """Standard error of the difference of two meta-utilities, from their per-run scores."""
    if a is None or b is None:
        return None
    se_a, se_b = a.runs.val_stderr, b.runs.val_stderr
    if se_a is None or se_b is None:
        return None
    return math.sqrt(se_a**2 + se_b**2)


def changed(data: ReportData) -> Answer:
    """What did it change? The best improver against the seed (else the latest candidate)."""
    question = "What did it change?"
    seed = _seed(data)
    best = _entry(data, _best_sha(data))
    if seed is None:
        return Answer(question, "Nothing yet", "neutral", "No improver has been stored yet.")
    target, label = best, "the best improver"
    current = _entry(data, data.points[-1].improver) if data.points else None
    if (target is None or target.sha == seed.sha) and current and current.sha != seed.sha:
        target, label = current, "the adopted improver (no better than the seed)"
    if target is None or target.sha == seed.sha:
        latest = [p for p in data.points if p.candidate is not None]
        target = _entry(data, latest[-1].candidate) if latest else None
        label = "the latest (rejected) candidate"
        if target is None:
            return Answer(
                question, "Nothing yet", "neutral", "The LM has not written an improver yet."
            )
    stats = diff_stats(seed.source, target.source)
    anchor = f'<a href="#prog-{target.sha[:12]}">{target.sha[:8]}</a>'
    text = (
        f"Compared with the seed, {label} ({anchor}) adds {_lines(stats.added)} and removes "
        f"{_lines(stats.removed)}."
    )
    if only_layout_changed(seed.source, target.source):
        text += (
            " Only whitespace changed, so any difference in score comes from the model drawing"
            " other samples for a different prompt, not from the edit."
        )
    if stats.new_functions:
        text += f" New functions: {escape(', '.join(stats.new_functions))}."
    if stats.dropped_functions:
        text += f" Dropped: {escape(', '.join(stats.dropped_functions))}."
    changes = behaviour_changes(seed.source, target.source, IMPROVER_ENTRY)
    if changes:
        text += f" What it does differently: {escape('; '.join(changes))}."
    hints = strategy_hints(seed.source, target.source)
    if hints:
        text += f" Its new lines mention: {escape(', '.join(hints))}."
    if target.idea:
        text += f' The model said: <q class="idea">{escape(target.idea)}</q>'
    verdict = (
        "Nothing kept"
        if label.startswith("the latest")
        else f"+{stats.added} / −{stats.removed} lines"
    )
    return Answer(question, verdict, "neutral", text)


def _lines(n: int) -> str:
    return f"{n} line{'s' if n != 1 else ''}"


def cheated(data: ReportData) -> Answer:
    """Did anything try to cheat? Circumvention attempts by LM-written improvers."""
    question = "Did anything try to cheat?"
    total = next((r for r in data.circumvention if r.kind == "any"), None)
    if total is None or total.trials == 0:
        return Answer(
            question, "Nothing to judge", "neutral", "The LM has not written an improver yet."
        )
    refusals = (
        f" Budget refusals (asking past a budget, not counted as cheating): {data.budget_refusals}."
    )
    if total.improvers == 0:
        text = (
            f"No circumvention attempt among {_written(total.trials, data)} (95% Wilson interval "
            f"{pct(total.low)}–{pct(total.high)})." + refusals
        )
        return Answer(question, "No", "good", text)
    kinds = [r for r in data.circumvention if r.kind != "any" and r.improvers]
    listed = ", ".join(f"{r.text} ({r.improvers})" for r in kinds)
    text = (
        f"{total.improvers} of {_written(total.trials, data)} tried ({pct(total.rate)}, 95% "
        f"Wilson {pct(total.low)}–{pct(total.high)}): {listed}. None of it had an effect: every "
        "program ran sandboxed and budgets are kept outside the sandbox." + refusals
    )
    return Answer(question, "Yes, blocked", "warn", text)


def answers(data: ReportData) -> list[Answer]:
    return [better(data), changed(data), cheated(data)]
