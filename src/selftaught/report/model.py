"""Everything the report shows, gathered from a run directory into plain frozen records."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selftaught.config import CONFIG_NAME, RunConfig, load_config
from selftaught.errors import ConfigError
from selftaught.lm.backends import backend_kind
from selftaught.lm.prices import PRICES_META, Price, stored_prices
from selftaught.report import queries as q
from selftaught.report.lineage import LineageNode
from selftaught.report.paper import PAPER_TRANSFER
from selftaught.report.runs import RunInfo, run_status
from selftaught.search.summary import gives_back_its_input
from selftaught.search.transfer import TransferRow
from selftaught.store.db import DB_NAME, IterationRecord, RunStore, sha256_text
from selftaught.store.kind import held_search
from selftaught.store.layout import EXECUTOR_KEY


@dataclass(frozen=True)
class Prices:
    """US dollars per million tokens, applied to `openai:` models' uncached samples."""

    input_per_million: float
    output_per_million: float

    def __post_init__(self) -> None:
        if self.input_per_million < 0 or self.output_per_million < 0:
            raise ConfigError("prices per million tokens must be >= 0")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million
        ) / 1e6


@dataclass(frozen=True)
class TransferLine:
    """A transfer-table row: (original, seed improver, improved improver), ours and the paper's."""

    task: str
    label: str
    ours: tuple[float | None, float | None, float | None]
    paper: tuple[float | None, float | None, float | None] | None
    runs: int


@dataclass(frozen=True)
class ImproverEntry:
    sha: str
    parent: str | None
    source: str
    parent_source: str | None
    role: str  # seed | adopted | rejected | archived | explored
    step: int | None
    runs: q.MetaRuns
    idea: str | None = None  # what the model said it would do, for LM-written improvers
    hands_back_input: str | None = None  # returns its input: by its code or in every run


@dataclass(frozen=True)
class SolutionEntry:
    sha: str
    source: str
    start_source: str | None  # the solution the improver started from
    run: q.SolutionRun


@dataclass(frozen=True)
class ReportData:
    run_dir: Path
    info: RunInfo
    config: RunConfig | None
    search: str
    points: tuple[IterationRecord, ...]
    lineage: tuple[LineageNode, ...]
    best_sha: str | None
    transfer: tuple[TransferLine, ...]
    circumvention: tuple[q.CircumventionRow, ...]
    budget_refusals: int
    usage: tuple[q.UsageRow, ...]
    improvers: tuple[ImproverEntry, ...]
    solutions: tuple[SolutionEntry, ...]
    other_solutions: int  # scored candidates that no improver returned
    span: tuple[float | None, float | None]
    outcomes: tuple[q.OutcomeCount, ...] = ()  # how the meta-training runs ended
    seed_outcomes: tuple[q.OutcomeCount, ...] = ()  # the same, for the seed improver only
    prices: Prices | None = None  # the report's own --price-in/--price-out
    stored_prices: tuple[tuple[str, Price | None], ...] = ()  # what the run noted, per model
    executor: str = "local"  # where the sessions ran, with the workers' sandbox layers


def _executor(store: RunStore, config: RunConfig | None) -> str:
    """`local`, or the Ray workers the run used and any sandbox layer they lacked."""
    raw = store.get_meta(EXECUTOR_KEY)
    try:
        record = json.loads(raw) if raw else None
        workers = record["workers"] if isinstance(record, dict) else None
    except (ValueError, KeyError, TypeError):
        workers = None
    if not isinstance(workers, list):
        return config.executor if config is not None else "local"
    missing = sorted(
        {f"{w.get('node')}: {name}" for w in workers for name, active, _ in w.get("layers", [])
         if not active}
    )  # fmt: skip
    layers = "all sandbox layers active" if not missing else "missing " + ", ".join(missing)
    return f"ray, {len(workers)} node(s), {layers}"


def _config(run_dir: Path) -> RunConfig | None:
    try:
        return load_config(run_dir / CONFIG_NAME)
    except ConfigError:
        return None


def _tree(store: RunStore) -> dict[str, Any] | None:
    """The search tree (for a chain, rebuilt from its iterations by the search package)."""
    from selftaught.search.summary import tree_summary

    return tree_summary(store)


def _lineage(
    store: RunStore, iterations: list[IterationRecord], tree: dict[str, Any] | None
) -> tuple[list[LineageNode], str | None]:
    if tree is None or not tree.get("nodes"):
        return [], None
    search = tree.get("search", "chain")
    adopted = {rec.improver for rec in iterations}
    tree_shas = {n["sha256"] for n in tree["nodes"]}
    children = store.query(
        "SELECT parent, COUNT(*) FROM programs WHERE kind = 'improver' AND parent IS NOT NULL"
        " GROUP BY parent"
    )
    tried = {parent: count for parent, count in children}
    in_tree_children = {sha: 0 for sha in tree_shas}
    for n in tree["nodes"]:
        if n["parent"] in in_tree_children:
            in_tree_children[n["parent"]] += 1
    nodes = []
    for n in tree["nodes"]:
        if n["parent"] is None:
            role = "seed"
        elif search == "chain":
            role = "adopted" if n["sha256"] in adopted else "rejected"
        else:
            role = "archived"
        nodes.append(
            LineageNode(
                sha=n["sha256"],
                parent=n["parent"],
                step=int(n.get("step", 0)),
                val=n["meta_utility_val"] if n.get("evaluations") else None,
                test=n["meta_utility_test"] if n.get("evaluations") else None,
                evaluations=int(n.get("evaluations", 0)),
                role=role,
                best=n["sha256"] == tree.get("best_sha256"),
                variants_tried=max(0, tried.get(n["sha256"], 0) - in_tree_children[n["sha256"]]),
            )
        )
    return nodes, tree.get("best_sha256")


def _transfer(store: RunStore, iterations: list[IterationRecord]) -> list[TransferLine]:
    ours: dict[str, TransferRow] = {}
    if iterations:
        for res in q.transfer_results(store, iterations[0].improver, iterations[-1].improver):
            ours[res.task] = res
    lines = []
    for paper in PAPER_TRANSFER:  # the paper's rows first, in its order
        r = ours.pop(paper.task) if paper.task in ours else None
        values = (r.original, r.seed_improver, r.improved_improver) if r else (None, None, None)
        lines.append(
            TransferLine(
                paper.task,
                paper.label,
                values,
                (paper.original, paper.seed_improver, paper.improved_improver),
                min(r.runs_seed, r.runs_improved) if r else 0,
            )
        )
    for task, r in sorted(ours.items()):  # tasks the paper did not report
        lines.append(
            TransferLine(
                task,
                task,
                (r.original, r.seed_improver, r.improved_improver),
                None,
                min(r.runs_seed, r.runs_improved),
            )
        )
    return lines


def _usage(store: RunStore, prices: Prices | None) -> list[q.UsageRow]:
    """Usage per phase and model; dollars at `prices` (the report's flags) for billed backends,
    else at the prices the run stored for each model (`selftaught.lm.prices`)."""
    stored = stored_prices(store.get_meta(PRICES_META))
    lines = []
    for u in q.lm_usage(store):
        dollars = None
        if prices is not None:
            kind = backend_kind(u.spec)
            if kind is not None and kind.billed:
                dollars = prices.cost(u.billed_prompt_tokens, u.billed_completion_tokens)
        elif (price := stored.get(u.spec)) is not None:
            dollars = price.cost(u.billed_prompt_tokens, u.billed_completion_tokens)
        if dollars is not None:
            u = dataclasses.replace(u, dollars=dollars)
        lines.append(u)
    return lines


def _improvers(
    store: RunStore, lineage: list[LineageNode], iterations: list[IterationRecord]
) -> list[ImproverEntry]:
    roles = {n.sha: (n.role, n.step) for n in lineage}
    rows = q.programs(store, "improver")
    sources = {r.sha: r.source for r in rows}
    order = {n.sha: i for i, n in enumerate(lineage)}
    entries = []
    for r in rows:
        role, step = roles.get(r.sha, ("explored" if r.parent else "seed", None))
        if not lineage and iterations and r.sha == iterations[0].improver:
            role, step = "seed", 0
        entries.append(
            ImproverEntry(
                r.sha,
                r.parent,
                r.source,
                sources.get(r.parent) if r.parent else None,
                role,
                step,
                q.meta_runs(store, r.sha),
                q.stated_idea(store, r.source, sources.get(r.parent)) if r.parent else None,
                gives_back_its_input(store, r.sha, r.source),
            )
        )
    entries.sort(key=lambda e: (order.get(e.sha, len(order)), e.step or 0))
    return entries


def _task_seed(task: str, prefix: str) -> str | None:
    """The task's own seed solution when its hash matches (improvers start from it, unscored)."""
    try:
        from selftaught.tasks import get_task

        seed = get_task(task).seed_solution
    except Exception:  # a task that no longer loads only costs the diff
        return None
    return seed if prefix and sha256_text(seed).startswith(prefix) else None


def _solutions(store: RunStore) -> tuple[list[SolutionEntry], int]:
    runs = [r for r in q.solution_runs(store) if r.result is not None]
    sources = {r.sha: r.source for r in q.programs(store, "solution")}
    starts: dict[str, str | None] = {}
    entries = []
    for run in runs:
        if run.start_prefix not in starts:
            starts[run.start_prefix] = next(
                (src for sha, src in sources.items() if sha.startswith(run.start_prefix)), None
            ) or _task_seed(run.task, run.start_prefix)
        assert run.result is not None
        source = sources.get(run.result)
        if source is None:
            continue
        entries.append(SolutionEntry(run.result, source, starts[run.start_prefix], run))
    shown = {e.sha for e in entries} | {
        sha for sha in sources if any(sha.startswith(p) for p in starts)
    }
    return entries, len(set(sources) - shown)


def collect(run_dir: Path | str, prices: Prices | None = None) -> ReportData:
    """Read a run directory into a `ReportData` (the run may still be running)."""
    run_dir = Path(run_dir)
    if not (run_dir / DB_NAME).is_file():
        raise ConfigError(f"{run_dir} is not a run directory (no {DB_NAME}); see `selftaught runs`")
    info = run_status(run_dir)
    config = _config(run_dir)
    store = RunStore(run_dir, read_only=True)
    try:
        iterations = store.iterations()
        tree = _tree(store)
        lineage, best = _lineage(store, iterations, tree)
        search = (tree or {}).get("search") or held_search(store.query, run_dir) or "chain"
        if info.search == "compare":
            search = "compare"
        points = tuple(iterations)
        solutions, others = _solutions(store)
        return ReportData(
            run_dir=run_dir,
            info=info,
            config=config,
            search=search,
            points=points,
            lineage=tuple(lineage),
            best_sha=best,
            transfer=tuple(_transfer(store, iterations)),
            circumvention=tuple(q.circumvention_rows(store)),
            budget_refusals=q.event_count(store, "budget_refusal"),
            usage=tuple(_usage(store, prices)),
            improvers=tuple(_improvers(store, lineage, iterations)),
            solutions=tuple(solutions),
            other_solutions=others,
            span=q.time_span(store),
            outcomes=tuple(q.run_outcomes(store)),
            executor=_executor(store, config),
            seed_outcomes=tuple(
                q.run_outcomes(store, improver=iterations[0].improver) if iterations else ()
            ),
            prices=prices,
            stored_prices=tuple(sorted(stored_prices(store.get_meta(PRICES_META)).items())),
        )
    finally:
        store.close()
