"""Mechanical repairs, measured offline: how many stored failures would the kit's repairs rescue?

The kit repairs some mistakes of the model's code before a candidate is scored
(`improvers/kit_repairs.py`). Their effect needs no model run: this applies each repair to every
distinct program scored on val in the given run stores (`run.sqlite`, found recursively; the
programs as they were scored, so from code without the repair), scores the programs a repair
changes on val with the real scorer, and prints per repair:

- changed: programs the repair changes; of them, failing (score 0 before) and valid (above 0);
- rescued: failing programs that score above 0 once repaired; and the valid programs it made
  worse (should be 0) or better.

The rescued count over all failing programs is the rise in the valid-candidate rate the repair
would have given those runs. Task names come from each store's `evaluations` table; a task this
checkout does not know is skipped with a note.

Run: PYTHONPATH=src .venv/bin/python bench/bench_repairs.py RUN_DIR [RUN_DIR ...] [--json FILE]
(default: runs/). No model; the scorer uses the cores.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import types
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from selftaught.core.session import helpers_source
from selftaught.errors import SelftaughtError
from selftaught.tasks import get_task, score_program

#: Each repair, by the name the kit gives it.
REPAIRS = ("rename_shadowed_versions", "list_for_numpy_generators")
QUERY = (
    "select e.task, e.score, p.source from evaluations e join programs p on p.sha256 = e.sha256 "
    "where e.split = 'val'"
)


def kit_functions() -> dict[str, Callable[[str], str]]:
    """The repairs as the sandbox's `helpers` module defines them."""
    helpers = types.ModuleType("helpers")
    exec(compile(helpers_source(), "helpers.py", "exec"), helpers.__dict__)
    return {name: helpers.__dict__[name] for name in REPAIRS}


def stored_programs(roots: list[Path]) -> Iterator[tuple[str, float, str]]:
    """(task, val score, source) of each distinct program scored on val under `roots`."""
    seen: set[tuple[str, str]] = set()
    for root in roots:
        for store in sorted(root.rglob("run.sqlite")):
            with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
                rows = db.execute(QUERY).fetchall()
            for task, score, source in rows:
                if (task, source) not in seen:
                    seen.add((task, source))
                    yield task, float(score), source


def measure(roots: list[Path]) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """(program totals, per-repair counts) over the programs stored under `roots`."""
    repairs = kit_functions()
    tally: dict[str, Counter[str]] = {name: Counter() for name in REPAIRS}
    totals: Counter[str] = Counter()
    unknown: set[str] = set()
    for task_name, before, source in stored_programs(roots):
        try:
            task = get_task(task_name)
        except SelftaughtError:
            unknown.add(task_name)
            continue
        totals["programs"] += 1
        totals["failing"] += before <= 0
        for name, repair in repairs.items():
            repaired = repair(source)
            if repaired == source:
                continue
            after = score_program(task, repaired, "val").score
            counts = tally[name]
            counts["changed"] += 1
            counts["failing" if before <= 0 else "valid"] += 1
            counts["rescued"] += before <= 0 < after
            counts["valid made worse"] += before > 0 and after < before
            counts["valid made better"] += 0 < before < after
            print(f"  {task_name:22} {name:26} {before:.4f} -> {after:.4f}", flush=True)
    if unknown:
        print(f"skipped programs of unknown tasks: {', '.join(sorted(unknown))}")
    return totals, tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="*", type=Path, default=[Path("runs")])
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    totals, tally = measure(args.roots)
    failing = totals["failing"]
    print(f"\n{totals['programs']} programs, {failing} failing on val")
    for name, counts in tally.items():
        share = f"{100 * counts['rescued'] / failing:.1f}% of the failing" if failing else "-"
        print(f"{name}: {json.dumps(dict(counts))}; rescued {counts['rescued']} ({share})")
    if args.json:
        result = {"programs": dict(totals), "repairs": {k: dict(v) for k, v in tally.items()}}
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
