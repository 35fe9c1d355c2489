"""The improver lineage: which improver wrote which, laid out as a tree, drawn as inline SVG.

Nodes come from the search's tree (`summary.json`'s `tree`; for a chain it is rebuilt from the
iterations: every candidate hangs off the improver that wrote it). The same layout feeds the PNG
in `selftaught.report.plots`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

NODE_W = 196
NODE_H = 58
GAP_X = 18
GAP_Y = 44
MARGIN = 12


@dataclass(frozen=True)
class LineageNode:
    """One improver in the lineage."""

    sha: str
    parent: str | None
    step: int  # iteration / expansion that created it (0: the seed)
    val: float | None
    test: float | None
    evaluations: int  # meta-training runs behind val/test
    role: str  # seed | adopted | rejected | archived
    best: bool
    variants_tried: int = 0  # further improvers it scored while writing this one's children


@dataclass(frozen=True)
class Placed:
    node: LineageNode
    x: float  # centre, in node-width units from the left
    depth: int


def layout(nodes: Sequence[LineageNode]) -> list[Placed]:
    """Tidy top-down layout: leaves get consecutive slots, parents sit over their children."""
    by_parent: dict[str | None, list[LineageNode]] = {}
    known = {n.sha for n in nodes}
    for n in nodes:
        parent = n.parent if n.parent in known else None
        by_parent.setdefault(parent, []).append(n)
    placed: dict[str, Placed] = {}
    next_slot = [0.0]

    def visit(node: LineageNode, depth: int) -> float:
        kids = sorted(by_parent.get(node.sha, []), key=lambda k: (k.step, k.sha))
        if not kids:
            x = next_slot[0]
            next_slot[0] += 1
        else:
            xs = [visit(k, depth + 1) for k in kids]
            x = (xs[0] + xs[-1]) / 2
        placed[node.sha] = Placed(node, x, depth)
        return x

    for root in sorted(by_parent.get(None, []), key=lambda r: (r.step, r.sha)):
        visit(root, 0)
    return [placed[n.sha] for n in nodes if n.sha in placed]


def _fill(val: float | None) -> str:
    """A light fill from pale red (0) through pale yellow to pale green (1)."""
    if val is None:
        return "#eeeeee"
    v = min(max(val, 0.0), 1.0)
    if v < 0.5:
        r, g, b = 252, int(205 + 90 * v), 190
    else:
        r, g, b = int(252 - 150 * (v - 0.5)), 240, int(190 + 10 * (v - 0.5))
    return f"#{r:02x}{g:02x}{b:02x}"


def pct(value: float | None) -> str:
    """A score in [0, 1] as a percentage: the one place scores are rounded for display, always
    from the stored value (never from an already rounded one)."""
    return "–" if value is None else f"{100 * value:.1f}%"


def node_title(node: LineageNode) -> str:
    if node.role == "seed":
        return f"seed · {node.sha[:8]}"
    return f"t={node.step} · {node.sha[:8]}"


def node_subtitle(node: LineageNode) -> str:
    return f"val {pct(node.val)} · test {pct(node.test)}"


def node_caption(node: LineageNode) -> str:
    parts = [node.role]
    if node.best:
        parts.append("best")
    parts.append(f"{node.evaluations} run{'s' if node.evaluations != 1 else ''}")
    return " · ".join(parts)


def lineage_svg(nodes: Sequence[LineageNode], anchor_prefix: str = "prog-") -> str:
    """An inline SVG of the lineage; each node links to its program's section."""
    placed = layout(nodes)
    if not placed:
        return '<p class="muted">No improver has been scored yet.</p>'
    width = int(max(p.x for p in placed) + 1) * (NODE_W + GAP_X) - GAP_X + 2 * MARGIN
    height = (max(p.depth for p in placed) + 1) * (NODE_H + GAP_Y) - GAP_Y + 2 * MARGIN
    pos = {p.node.sha: p for p in placed}

    def box(p: Placed) -> tuple[float, float]:
        return MARGIN + p.x * (NODE_W + GAP_X), MARGIN + p.depth * (NODE_H + GAP_Y)

    parts = [
        f'<svg class="lineage" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="improver lineage tree">'
    ]
    for p in placed:
        parent = pos.get(p.node.parent or "")
        if parent is None:
            continue
        px, py = box(parent)
        cx, cy = box(p)
        dash = ' stroke-dasharray="5 4"' if p.node.role == "rejected" else ""
        parts.append(
            f'<path d="M{px + NODE_W / 2:.0f},{py + NODE_H:.0f} C{px + NODE_W / 2:.0f},'
            f"{py + NODE_H + GAP_Y / 2:.0f} {cx + NODE_W / 2:.0f},{cy - GAP_Y / 2:.0f} "
            f'{cx + NODE_W / 2:.0f},{cy:.0f}" fill="none" stroke="#8a8f98" stroke-width="1.5"'
            f"{dash}/>"
        )
    for p in placed:
        n = p.node
        x, y = box(p)
        stroke, sw = ("#1b7f3b", 3) if n.best else ("#5b6270", 1.2)
        dash = ' stroke-dasharray="5 4"' if n.role == "rejected" else ""
        title = escape(f"{n.sha}\n{node_caption(n)}")
        parts.append(
            f'<a href="#{anchor_prefix}{n.sha[:12]}" class="lnode" data-sha="{n.sha}">'
            f"<title>{title}</title>"
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="7" '
            f'fill="{_fill(n.val)}" stroke="{stroke}" stroke-width="{sw}"{dash}/>'
            f'<text x="{x + 9:.0f}" y="{y + 17:.0f}" class="t1">{escape(node_title(n))}</text>'
            f'<text x="{x + 9:.0f}" y="{y + 34:.0f}" class="t2">{escape(node_subtitle(n))}</text>'
            f'<text x="{x + 9:.0f}" y="{y + 50:.0f}" class="t3">{escape(node_caption(n))}</text>'
            "</a>"
        )
    parts.append("</svg>")
    return "".join(parts)
