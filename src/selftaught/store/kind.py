"""Which search a run directory holds: the one answer every caller uses.

`run --search` claims a directory before its first step (`meta` key `search`); `compare` leaves
its sessions, its result in `meta` and `compare.json`; a chain made by `run_stop` alone (no
claim) is known by its baseline iteration.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from selftaught.errors import ConfigError
from selftaught.store.db import RunStore
from selftaught.store.layout import (
    COMPARE_KEY,
    COMPARE_RESULT,
    DB_NAME,
    IMPROVE_KEY,
    SEARCH_KEY,
    TREE_KEY,
    purpose_pattern,
)

__all__ = ["COMPARE", "IMPROVE", "Query", "claim_search", "held_search", "search_kind"]

#: What `held_search` says of a directory `selftaught compare` wrote.
COMPARE = "compare"
#: What `held_search` says of a directory `selftaught improve --out` wrote.
IMPROVE = "improve"

#: A read-only SQL runner over a run database (`RunStore.query`, or a wrapped connection).
Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]


def held_search(query: Query, run_dir: Path | None = None) -> str | None:
    """The search a run database holds (`chain`, `archive`, `hgm`, ..., or `compare`); None
    when it holds none yet. `run_dir` also lets a finished `compare.json` count."""
    meta: dict[str, str] = dict(
        query(
            "SELECT key, value FROM meta WHERE key IN (?, ?, ?, ?)",
            (SEARCH_KEY, TREE_KEY, COMPARE_KEY, IMPROVE_KEY),
        )
    )
    if SEARCH_KEY in meta:
        return str(meta[SEARCH_KEY])
    if IMPROVE_KEY in meta:
        return IMPROVE
    if (
        COMPARE_KEY in meta
        or (run_dir is not None and (run_dir / COMPARE_RESULT).is_file())
        or query("SELECT 1 FROM sessions WHERE key LIKE ? LIMIT 1", (purpose_pattern(COMPARE),))
    ):
        return COMPARE
    if TREE_KEY not in meta and query("SELECT 1 FROM iterations WHERE t = 0", ()):
        return "chain"  # a chain run before searches were claimed (or `run_stop` alone)
    return None


def search_kind(run_dir: Path | str) -> str | None:
    """`held_search` of a run directory, read without changing it (None: no run store)."""
    run_dir = Path(run_dir)
    if not (run_dir / DB_NAME).is_file():
        return None
    store = RunStore(run_dir, read_only=True)
    try:
        return held_search(store.query, run_dir)
    finally:
        store.close()


def claim_search(store: RunStore, search: str) -> None:
    """Record which search a run directory holds; refuse to continue it with another one."""
    held = held_search(store.query, Path(store.run_dir))
    if held == COMPARE:
        raise ConfigError(f"{store.run_dir} holds a `selftaught compare` run, not a search")
    if held == IMPROVE:
        raise ConfigError(f"{store.run_dir} holds a `selftaught improve` run, not a search")
    if held is not None and held != search:
        raise ConfigError(
            f"{store.run_dir} holds a --search {held} run; resume it with --search {held}"
        )
    store.set_meta(SEARCH_KEY, search)
