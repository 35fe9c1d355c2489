"""`build_report`: a run directory in, `report.html` and PNG plots out (beside the run's files)."""

from __future__ import annotations

from pathlib import Path

from selftaught.report import plots
from selftaught.report.answers import answers
from selftaught.report.model import Prices, ReportData, collect
from selftaught.report.page import render
from selftaught.store.kind import IMPROVE, search_kind
from selftaught.store.layout import REPORT_NAME

PLOT_NAMES = ("meta_utility.png", "lineage.png", "transfer.png", "lm_usage.png")


def make_plots(data: ReportData, out_dir: Path) -> dict[str, bytes | None]:
    """Draw the plots that have data, write them into `out_dir`, and return their PNG bytes."""
    out: dict[str, bytes | None] = {}
    if data.points:
        label = "iteration t" if data.search == "chain" else "expansion t"
        out["meta_utility"] = plots.meta_utility_plot(
            data.points, label, out_dir / "meta_utility.png"
        )
    if data.lineage:
        out["lineage"] = plots.lineage_plot(data.lineage, out_dir / "lineage.png")
    measured = [t for t in data.transfer if any(v is not None for v in t.ours)]
    if measured:
        out["transfer"] = plots.transfer_plot(measured, out_dir / "transfer.png")
    if data.usage:
        out["lm_usage"] = plots.usage_plot(data.usage, out_dir / "lm_usage.png")
    return out


def build_report(
    run_dir: Path | str, out: Path | str | None = None, *, prices: Prices | None = None
) -> Path:
    """Write the run's report (default `RUN_DIR/report.html`) and its plots; return its path.

    The plots go beside the page; the run directory itself is only read (it may be on
    read-only media). The page embeds everything it shows, so it can be copied anywhere and
    opened without network access. The run may still be running: the report shows what has been
    stored so far.
    """
    run_dir = Path(run_dir)
    target = Path(out) if out is not None else run_dir / REPORT_NAME
    if search_kind(run_dir) == IMPROVE:  # one improver session: a page of its own
        from selftaught.report.improve_page import build_improve_report

        target.parent.mkdir(parents=True, exist_ok=True)
        return build_improve_report(run_dir, target)
    data = collect(run_dir, prices)
    target.parent.mkdir(parents=True, exist_ok=True)
    html = render(data, answers(data), make_plots(data, target.parent))
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target
