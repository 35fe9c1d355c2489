"""`summary.json`: the run's result in the shape issue #4 specifies, built from the store.

The one writer of the file (`write_summary`): every search step, `transfer` and `improve` call
it. It lives in `search`, above the store, because a run's summary describes its search (the
tree of improvers); the store only counts (`selftaught.store.summary`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from selftaught.core.change import behaviour_changes, returns_its_input
from selftaught.core.feedback import same_program
from selftaught.core.meta import IMPROVER_ENTRY
from selftaught.search.tree import ImproverTree, TreeNode
from selftaught.store.db import RunStore
from selftaught.store.layout import (
    META_RUN,
    SEARCH_KEY,
    SUMMARY_NAME,
    TREE_KEY,
    parse_session_key,
    purpose_pattern,
)
from selftaught.store.summary import circumvention_stats, lm_stats

__all__ = ["build_summary", "chain_tree", "tree_summary", "write_summary"]


def chain_tree(store: RunStore) -> ImproverTree | None:
    """The chain's tree, rebuilt from its iterations: every candidate hangs off its parent."""
    iterations = store.iterations()
    if not iterations:
        return None

    def node(sha: str, parent: str | None, step: int) -> TreeNode:
        rows = store.query(
            "SELECT val, test FROM sessions WHERE improver = ? AND key LIKE ? ORDER BY key",
            (sha, purpose_pattern("meta")),
        )
        return TreeNode(sha, parent, tuple(r[0] for r in rows), tuple(r[1] for r in rows), step)

    tree = ImproverTree([node(iterations[0].improver, None, 0)])
    parent = iterations[0].improver
    for rec in iterations[1:]:
        if rec.candidate is not None and rec.candidate not in tree:
            tree.add(node(rec.candidate, parent, rec.t))
        parent = rec.improver
    return tree


def tree_summary(store: RunStore) -> dict[str, Any] | None:
    """The `tree` entry of summary.json: nodes with parent, scores and evaluations.

    A tree search's tree is stored (`meta` key `tree`); a chain's is rebuilt from its iterations.
    """
    raw = store.get_meta(TREE_KEY)
    if raw is not None:
        state = json.loads(raw)
        search, tree, steps = (
            state["search"],
            ImproverTree.from_json(state["nodes"]),
            state["steps"],
        )
    else:
        chain = chain_tree(store)
        if chain is None:
            return None
        search, tree, steps = "chain", chain, [None] * (len(store.iterations()) - 1)
    best = tree.best()
    return {
        "search": search,
        "best_sha256": best.sha,
        "steps": len(steps),
        "evaluations": tree.total_evaluations(),
        "nodes": tree.summary_nodes(),
    }


def build_summary(store: RunStore) -> dict[str, Any]:
    """The summary of everything the store holds.

    A run whose directory claimed a search (`run_search`, any `--search`, the chain included)
    also gets `search` and `tree`, so rewriting the summary (e.g. after `transfer`) keeps them.
    """
    iterations = [
        {
            "t": rec.t,
            "improver_sha256": rec.improver,
            "meta_utility_val": rec.val,
            "meta_utility_test": rec.test,
            "adopted": rec.adopted,
        }
        for rec in store.iterations()
    ]
    summary: dict[str, Any] = {
        "iterations": iterations,
        "circumvention": circumvention_stats(store),
        "lm": lm_stats(store),
    }
    changes = adopted_changes(store)
    if changes is not None:
        summary["adopted_changes"] = changes
    summary.update(_tree_entries(store))
    return summary


def adopted_changes(store: RunStore) -> dict[str, Any] | None:
    """What the last adopted improver does differently from the initial one, in plain words
    (`core.change.behaviour_changes`); None while they are the same program."""
    iterations = store.iterations()
    if not iterations or iterations[-1].improver == iterations[0].improver:
        return None
    first, last = iterations[0].improver, iterations[-1].improver
    old, new = store.program(first) or "", store.program(last) or ""
    return {
        "from_sha256": first,
        "to_sha256": last,
        "changes": behaviour_changes(old, new, IMPROVER_ENTRY),
        # Then a gain is the input beating the initial improver's candidates, not a better search.
        "returns_its_input": gives_back_its_input(store, last, new),
    }


#: How an improver was seen to hand back its input (`gives_back_its_input`).
BY_CODE = "code"  # every value it returns is built from its input: it ignores the candidates
BY_RUNS = "runs"  # its code may return a candidate, but every run handed back its input


def gives_back_its_input(store: RunStore, improver_sha: str, source: str) -> str | None:
    """How an improver hands back its input instead of the model's candidates: `BY_CODE`, read
    from its code (`returns_its_input`); `BY_RUNS`, seen in every one of its runs
    (`hands_back_its_input`); None when neither."""
    if returns_its_input(source, IMPROVER_ENTRY):
        return BY_CODE
    return BY_RUNS if hands_back_its_input(store, improver_sha) else None


def input_gain_note(how: str) -> str:
    """What a gain of an improver that hands back its input (`gives_back_its_input`) means."""
    what = (
        "returns its input (unchanged, wrapped, or with comments added) and ignores the model's"
        " candidates"
        if how == BY_CODE
        else "handed back its input in every run (no candidate of the model beat it, or it"
        " pasted comments onto it)"
    )
    gain = "its gain is the input beating the initial improver's candidates, not a better search"
    return f"{what}: {gain}"


def hands_back_its_input(store: RunStore, improver_sha: str) -> bool:
    """Whether every meta-utility run of this improver returned the solution it started from,
    up to formatting and comments (`same_program`): an improver that pastes comments onto its
    input, or rebuilds it with string methods, escapes `returns_its_input` but not this."""
    rows = store.query(
        "SELECT key, result FROM sessions WHERE key LIKE ? AND improver = ?",
        (purpose_pattern(META_RUN), improver_sha),
    )
    verdicts = []
    for key, result in rows:
        parts = parse_session_key(key)
        start = store.query(
            "SELECT source FROM programs WHERE sha256 LIKE ?", (f"{parts.start}%",)
        ) if parts else []  # fmt: skip
        returned = store.program(result) if result else None
        if not start or returned is None:
            return False
        verdicts.append(same_program(returned, start[0][0]))
    return bool(verdicts) and all(verdicts)


def _tree_entries(store: RunStore) -> dict[str, Any]:
    # Only a claimed directory carries them: a bare `run_stop` chain's summary has neither.
    search = store.get_meta(SEARCH_KEY)
    if search is None and store.get_meta(TREE_KEY) is None:
        return {}
    entries: dict[str, Any] = {"search": search or "chain"}
    tree = tree_summary(store)
    if tree is not None:
        entries["tree"] = tree
    return entries


def write_summary(store: RunStore) -> dict[str, Any]:
    """Write `summary.json` atomically next to the database and return it."""
    summary = build_summary(store)
    path = Path(store.run_dir) / SUMMARY_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
    os.replace(tmp, path)
    return summary
