"""PNG plots of a run, drawn with matplotlib's Agg canvas (no display, no pyplot global state)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from selftaught.report.lineage import (
    LineageNode,
    _fill,
    layout,
    node_caption,
    node_subtitle,
    node_title,
)
from selftaught.report.model import TransferLine
from selftaught.report.queries import UsageRow
from selftaught.store.db import IterationRecord

VAL_COLOUR = "#1f5fbf"
TEST_COLOUR = "#d9731a"
DPI = 110


def _png(fig: Figure, path: Path | None) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    data = buf.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data


def meta_utility_plot(points: Sequence[IterationRecord], x_label: str, path: Path | None) -> bytes:
    """Meta-utility (val and test) of the current best improver by iteration, plus candidates."""
    fig = Figure(figsize=(8.2, 3.8))
    ax = fig.add_subplot()
    ts = [p.t for p in points]
    ax.plot(
        ts, [p.val for p in points], "-o", color=VAL_COLOUR, lw=2, label="validation (best so far)"
    )
    ax.plot(
        ts, [p.test for p in points], "--s", color=TEST_COLOUR, lw=2, label="test (same improver)"
    )
    cands = [p for p in points if p.candidate_val is not None]
    for adopted, face in ((True, None), (False, "white")):
        group = [p for p in cands if p.adopted == adopted]
        if not group:
            continue
        tag = "adopted" if adopted else "rejected"
        ax.scatter(
            [p.t for p in group],
            [p.candidate_val or 0.0 for p in group],
            s=70,
            marker="D",
            facecolors=face or VAL_COLOUR,
            edgecolors=VAL_COLOUR,
            zorder=3,
            label=f"candidate, validation ({tag})",
        )
    ax.set_xlabel(x_label)
    ax.set_ylabel("meta-utility (mean score)")
    ax.set_xticks(ts)
    values = [v for p in points for v in (p.val, p.test, p.candidate_val) if v is not None]
    low = min(values, default=0.0)
    high = max(values, default=1.0)
    high = max(high, low + 0.2)  # flat or all-zero runs still get a readable scale
    pad = max(0.05, (high - low) * 0.15)
    # A little room below 0 keeps markers at 0% (crashed candidates) visible above the axis.
    ax.set_ylim(max(-0.03, low - pad), min(1.03, high + pad))
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%" if v >= -1e-9 else "")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    ax.set_title("Did the improver get better?", fontsize=11, loc="left")
    return _png(fig, path)


def lineage_plot(nodes: Sequence[LineageNode], path: Path | None) -> bytes:
    """The lineage tree as a PNG (the same layout as the page's SVG)."""
    placed = layout(nodes)
    cols = max((p.x for p in placed), default=0) + 1
    rows = max((p.depth for p in placed), default=0) + 1
    fig = Figure(figsize=(max(3.0, 2.3 * cols), max(1.6, 1.35 * rows)))
    ax = fig.add_subplot()
    ax.set_xlim(-0.55, cols - 0.45)
    ax.set_ylim(rows - 0.45, -0.55)
    ax.axis("off")
    pos = {p.node.sha: p for p in placed}
    for p in placed:
        parent = pos.get(p.node.parent or "")
        if parent is not None:
            style = "--" if p.node.role == "rejected" else "-"
            ax.plot([parent.x, p.x], [parent.depth + 0.3, p.depth - 0.3], style, color="#8a8f98")
    for p in placed:
        n = p.node
        ax.add_patch(
            FancyBboxPatch(
                (p.x - 0.45, p.depth - 0.3),
                0.9,
                0.6,
                boxstyle="round,pad=0.02",
                facecolor=_fill(n.val),
                edgecolor="#1b7f3b" if n.best else "#5b6270",
                linewidth=2.5 if n.best else 1.0,
                linestyle="--" if n.role == "rejected" else "-",
            )
        )
        label = f"{node_title(n)}\n{node_subtitle(n)}\n{node_caption(n)}"
        ax.text(p.x, p.depth, label, ha="center", va="center", fontsize=7.5, family="monospace")
    ax.set_title("Improver lineage (green border: best by validation)", fontsize=10, loc="left")
    return _png(fig, path)


def usage_plot(rows: Sequence[UsageRow], path: Path | None) -> bytes:
    """Prompt and completion tokens per phase of the run."""
    fig = Figure(figsize=(8.2, 0.9 + 0.55 * max(1, len(rows))))
    ax = fig.add_subplot()
    labels = [f"{r.phase}\n{r.spec}" for r in rows]
    ys = list(range(len(rows)))
    prompt = [r.prompt_tokens for r in rows]
    completion = [r.completion_tokens for r in rows]
    ax.barh(ys, prompt, color="#9db8e0", label="prompt tokens")
    ax.barh(ys, completion, left=prompt, color="#1f5fbf", label="completion tokens")
    ax.set_yticks(ys, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("tokens")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig, path)


def transfer_plot(rows: Sequence[TransferLine], path: Path | None) -> bytes:
    """Per task: original, seed improver, improved improver (bars), paper's values (markers)."""
    fig = Figure(figsize=(min(8.2, 3.4 + 1.6 * len(rows)), 3.6))
    ax = fig.add_subplot()
    width = 0.26
    series = (
        ("original", "#b9bec7"),
        ("seed improver", "#9db8e0"),
        ("improved improver", "#1f5fbf"),
    )
    xs = list(range(len(rows)))
    for i, (name, colour) in enumerate(series):
        ours = [r.ours[i] or 0.0 for r in rows]
        shift = (i - 1) * width
        bars = ax.bar(
            [x + shift for x in xs], ours, width, color=colour, label=f"{name} (this run)"
        )
        ax.bar_label(bars, labels=[f"{100 * v:.0f}%" for v in ours], fontsize=7, padding=2)
        paper = [(x + shift, r.paper[i] or 0.0) for x, r in zip(xs, rows, strict=True) if r.paper]
        if paper:
            ax.scatter(
                [p[0] for p in paper],
                [p[1] for p in paper],
                marker="_",
                s=260,
                linewidths=2.5,
                color="#222222",
                zorder=3,
                label="paper (GPT-4)" if i == 2 else None,
            )
    ax.set_xticks(xs, [r.task for r in rows], fontsize=8)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_ylim(0, 1.12)
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax.set_ylabel("test score")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7.5, ncols=2, loc="upper left")
    return _png(fig, path)
