"""The top of the report of a `selftaught compare` directory.

A comparison runs no STOP loop, so its page shows no meta-training task, T, acceptance rule or
search: only what was compared (improvers, tasks, runs, budgets) and its own table and plot.
"""

from __future__ import annotations

import json
from html import escape

from selftaught.report.html import img, section, when
from selftaught.report.model import ReportData
from selftaught.store.layout import COMPARE_RESULT

COMPARE_NAV = (
    ("compare", "Comparison"),
    ("circumvention", "Circumvention"),
    ("usage", "LM usage"),
    ("programs", "Programs"),
)


def _result(data: ReportData) -> dict | None:
    try:
        return json.loads((data.run_dir / COMPARE_RESULT).read_text())
    except (OSError, ValueError):
        return None


def compare_header(data: ReportData) -> str:
    """Title, status and the comparison's settings."""
    info, cfg, result = data.info, data.config, _result(data) or {}
    facts = [
        (
            "status",
            f'<span class="status {info.status}">{info.status}</span> '
            f'<span class="muted">{escape(info.detail)}</span>',
        ),
        ("model", f"<code>{escape(cfg.model if cfg else info.model)}</code>"),
        ("executor", escape(data.executor)),
    ]
    if result:
        facts += [
            ("improvers", escape(", ".join(result.get("improvers", [])))),
            ("tasks", escape(", ".join(result.get("tasks", [])))),
            ("runs per improver and task", str(result.get("runs", "–"))),
        ]
    if cfg is not None:
        facts.append(
            (
                "LM budget per run",
                f"{cfg.lm_budget} call(s) × {cfg.max_responses_per_call} responses",
            )
        )
    facts.append(("started", when(data.span[0])))
    grid = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    return f"""
<header>
  <h1>Improver comparison report <span class="muted">· {escape(data.run_dir.name)}</span></h1>
  <p class="lede">Each improver improved each task's starting solution on the same budgets; the
  results are scored on the held-out test split (<code>selftaught compare</code>).</p>
  <dl class="facts">{grid}</dl>
</header>"""


def compare_section(data: ReportData) -> str:
    """The comparison's plot, and where its table is."""
    path = data.run_dir / "compare.png"
    body = f"<p>The table is in <code>{COMPARE_RESULT}</code>.</p>"
    if path.is_file():
        body += img(path.read_bytes(), "Comparison of improvers", "compare.png")
    return section("compare", "Improver comparison", body)
