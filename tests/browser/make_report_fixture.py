"""Regenerate `tests/fixtures/report_run/`, the run the browser test renders.

The fixture is a real STOP run of the embedded Qwen2.5-Coder-0.5B model (T=2, R=2, small budgets)
followed by `transfer` on maxcut. Every model exchange is in
`tests/fixtures/recordings/report_run.jsonl`, so the directory can be rebuilt without the model:

    PYTHONPATH=src .venv/bin/python tests/browser/make_report_fixture.py            # replay
    PYTHONPATH=src .venv/bin/python tests/browser/make_report_fixture.py --record   # the model

Replay needs prompts unchanged since the recording; after a prompt change, record again. A
replayed rebuild has the same programs, scores and tokens but zero LM seconds (replay reports no
model time); the committed fixture is the recording run itself.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from selftaught.config import RunConfig
from selftaught.lm import open_model
from selftaught.search.plumbing import Plumbing
from selftaught.search.run import run_stop
from selftaught.search.transfer import transfer

TESTS = Path(__file__).resolve().parents[1]
FIXTURE = TESTS / "fixtures" / "report_run"
RECORDING = TESTS / "fixtures" / "recordings" / "report_run.jsonl"
KEEP = ("config.toml", "run.sqlite", "summary.json")
MODEL = "embedded:qwen2.5-coder-0.5b"


def config(model: str) -> RunConfig:
    return RunConfig(
        model=model,
        iterations=2,
        runs=2,
        lm_budget=1,
        meta_lm_budget=1,
        max_responses_per_call=2,
        max_tokens=256,
        meta_max_tokens=384,
        meta_utility_budget=2,
        transfer_tasks=("maxcut",),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--record", action="store_true", help="run the model and re-record")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        if args.record:
            RECORDING.unlink(missing_ok=True)
            backend = open_model(MODEL, cache=Path(tmp) / "cache.sqlite", record=RECORDING)
        else:
            backend = open_model(f"replay:{RECORDING}")
        plumbing = Plumbing(backend=backend)
        run_stop(config(MODEL), run_dir, plumbing=plumbing)
        transfer(run_dir, ["maxcut"], plumbing=plumbing)
        # One self-contained database file: fold the write-ahead log in before copying.
        import sqlite3

        with sqlite3.connect(run_dir / "run.sqlite") as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("PRAGMA journal_mode=DELETE")
        db.close()
        shutil.rmtree(FIXTURE, ignore_errors=True)
        FIXTURE.mkdir(parents=True)
        for name in KEEP:
            shutil.copy2(run_dir / name, FIXTURE / name)
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
