"""`run_hgm` end to end on replayed REAL 0.5B responses: it completes, and a run killed at
several points resumes to the same summary without repeating finished samples.

Recorded by running this module as a script (`python tests/test_search_hgm_replay.py --record`)
against `embedded:qwen2.5-coder-0.5b`. Scores come from the deterministic stand-in scorer of
test_improvers_session.py (no candidate code runs in the test process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from selftaught.config import RunConfig
from selftaught.search.plumbing import Plumbing
from selftaught.search.run import run_hgm
from selftaught.store.db import CRASH_ENV, CRASH_EXIT_CODE, Evaluation, RunStore

HERE = Path(__file__).parent
RECORDING = HERE / "fixtures" / "recordings" / "improvers_hgm_run.jsonl"
CONFIG = RunConfig(
    model="replay",
    iterations=2,
    runs=2,
    lm_budget=1,
    meta_lm_budget=1,
    max_responses_per_call=2,
    max_tokens=160,
    meta_max_tokens=384,
    utility_budget=3,
    meta_utility_budget=1,
    batch_window_seconds=0.2,
)


def stand_in_score(task: object, source: str, split: str) -> Evaluation:
    sys.path.insert(0, str(HERE))
    from test_improvers_session import stand_in_utility

    score = stand_in_utility(source)
    return Evaluation(score if split == "val" else score / 2, 0.0, None)


def plumbing(backend: object) -> Plumbing:
    sys.path.insert(0, str(HERE))
    from loop_support import local_channel_factory

    return Plumbing(backend, local_channel_factory, stand_in_score)  # type: ignore[arg-type]


def replay() -> object:
    from selftaught.lm.replay import ReplayBackend

    return ReplayBackend(RECORDING)


pytestmark = pytest.mark.skipif(not RECORDING.is_file(), reason="recording missing")


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("hgm") / "run"
    return out, run_hgm(CONFIG, out, plumbing=plumbing(replay()))


def test_hgm_run_completes_with_a_tree(finished: tuple[Path, dict]) -> None:
    out, summary = finished
    tree = summary["tree"]
    assert summary["search"] == "hgm" and tree["search"] == "hgm"
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["iterations"][0]["t"] == 0
    assert len(summary["iterations"]) == 1 + 2  # the seed, then T = 2 expansions
    root = tree["nodes"][0]
    assert root["parent"] is None and root["evaluations"] >= 2
    for node in tree["nodes"][1:]:
        assert node["parent"] in {n["sha256"] for n in tree["nodes"]}
    assert summary["lm"]["samples"] > 0


CHILD = """
import sys
sys.path.insert(0, {here!r})
from test_search_hgm_replay import CONFIG, plumbing, replay
from selftaught.search.run import run_hgm
run_hgm(CONFIG, {out!r}, resume={resume}, plumbing=plumbing(replay()))
"""


def stored_rows(run_dir: Path) -> int:
    """Rows in a run's store: a lower bound of the writes the run made (each row is one)."""
    store = RunStore(run_dir, read_only=True)
    tables = [name for (name,) in store.query("SELECT name FROM sqlite_master WHERE type='table'")]
    rows = sum(store.query(f"SELECT COUNT(*) FROM {name}")[0][0] for name in tables)
    store.close()
    return rows


@pytest.mark.parametrize("share", [0.15, 0.5, 0.85])
def test_killed_run_resumes_to_the_same_summary(
    finished: tuple[Path, dict], tmp_path: Path, share: float
) -> None:
    done, expected = finished
    writes = max(1, int(share * stored_rows(done)))  # early, midway and late in the run
    out = tmp_path / "run"
    env = {**os.environ, CRASH_ENV: str(writes)}
    code = CHILD.format(here=str(HERE), out=str(out), resume=False)
    crashed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr.decode()[-2000:]
    resumed = run_hgm(CONFIG, out, resume=True, plumbing=plumbing(replay()))
    assert resumed["iterations"] == expected["iterations"]
    assert resumed["tree"] == expected["tree"]
    assert resumed["lm"]["samples"] == expected["lm"]["samples"]  # the same distinct samples


def record() -> None:
    import shutil

    from selftaught.lm import open_model

    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/tmp/hgm_record_run")
    shutil.rmtree(out, ignore_errors=True)
    RECORDING.unlink(missing_ok=True)
    backend = open_model("embedded:qwen2.5-coder-0.5b", cache=False, record=RECORDING)
    summary = run_hgm(
        CONFIG.replace(model="embedded:qwen2.5-coder-0.5b"), out, plumbing=plumbing(backend)
    )
    print(json.dumps(summary["tree"], indent=1))


if __name__ == "__main__" and sys.argv[1:2] == ["--record"]:
    record()
