"""Every reference improver, run through the real ImproverSession and sandbox, on replayed REAL
responses of the embedded 0.5B model.

The recordings were made by running this module as a script (`python tests/test_improvers_session.py
--record`), which drives the same sessions against `embedded:qwen2.5-coder-0.5b`. The utility is a
deterministic stand-in (no candidate code is executed in the test process), so the prompts an
improver sends, and therefore the replay keys, are reproducible.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from selftaught.config import CODE_PREFIX
from selftaught.core.session import ImproverSession, SessionOutcome, SessionSpec
from selftaught.improvers.catalog import get_improver, list_improvers
from selftaught.lm.budget import BudgetedLanguageModel
from selftaught.lm.replay import ReplayBackend, load_recording
from selftaught.lm.types import Backend
from selftaught.store.db import RunStore, sha256_text
from selftaught.tasks.contract import code_reply_prefix, function_head

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings"
RECORDED_MODEL = "embedded:qwen2.5-coder-0.5b"
LM_BUDGET = 2
WIDTH = 2
MAX_TOKENS = 256
UTILITY_BUDGET = 6
TASK = "parity_noise"
NAMES = [info.name for info in list_improvers() if info.name != "seed"]


def stand_in_utility(source: str) -> float:
    """0 unless `source` defines algorithm(a, b, c); then grows with its syntactic variety."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return 0.0
    ok = any(
        isinstance(node, ast.FunctionDef) and node.name == "algorithm" and len(node.args.args) == 3
        for node in tree.body
    )
    if not ok:
        return 0.0
    kinds = {type(node).__name__ for node in ast.walk(tree)}
    return round(min(1.0, len(kinds) / 60), 6)


def run_session(
    name: str, backend: Backend, tmp: Path, code: bool = False
) -> tuple[SessionOutcome, BudgetedLanguageModel, list[str]]:
    """One session of improver `name`; `code`: code decoding, as `run` and `improve` use it on
    the embedded model (reply prefixes), and refine's replies that continue a program on."""
    from selftaught.tasks import get_task

    task = get_task(TASK)
    source = get_improver(name).source()
    if code:  # parity has no objective: the local-search tactic must be offered to continue
        source = source.replace("CONTINUE_STEPS = False", "CONTINUE_STEPS = True")
        source = source.replace("OFFER_UNJUDGED = False", "OFFER_UNJUDGED = True")
    prefixes: dict[str, str] = {}
    if code:
        head = function_head(task.signature, task.entry)
        prefixes = {
            "reply_prefix": code_reply_prefix(CODE_PREFIX, task.packages, head),
            "continue_prefix": code_reply_prefix(CODE_PREFIX, task.packages, "", ""),
        }
    lm = BudgetedLanguageModel(
        backend, LM_BUDGET, max_responses_per_call=WIDTH, max_tokens=MAX_TOKENS, **prefixes
    )
    scored: list[str] = []

    def utility(program: str) -> float:
        scored.append(program)
        return stand_in_utility(program)

    spec = SessionSpec(
        key=f"test/{name}",
        improver_source=source,
        improver_sha=sha256_text(source),
        initial_solution=task.seed_solution,
        entry=task.entry,
        utility_text=task.utility_text,
        utility_budget=UTILITY_BUDGET,
        seed=0,  # what improve_once gives run 0 of seed 0: compare tests replay these too
        wall_seconds=1800,
    )
    outcome = ImproverSession(spec, lm, utility, RunStore(tmp)).run()
    return outcome, lm, scored


@pytest.mark.parametrize("name", NAMES)
def test_improver_on_replayed_model(name: str, tmp_path: Path) -> None:
    from selftaught.tasks import get_task

    recording = RECORDINGS / f"improvers_{name}.jsonl"
    outcome, lm, scored = run_session(name, ReplayBackend(recording), tmp_path)
    seed_solution = get_task(TASK).seed_solution
    assert outcome.status == "ok", outcome.error
    assert outcome.result is not None
    # both budgets respected, and the LM budget actually used
    assert 1 <= outcome.lm_calls <= LM_BUDGET and lm.calls_used <= LM_BUDGET
    assert outcome.utility_calls == len(scored) <= UTILITY_BUDGET
    assert outcome.attempts == 0  # reference improvers never try to circumvent anything
    # never worse than the input, and the result is one of the scored programs
    assert stand_in_utility(outcome.result) >= stand_in_utility(seed_solution)
    assert outcome.result in scored
    # the returned program is the best of everything scored (the utility cache: no re-scoring)
    assert stand_in_utility(outcome.result) == max(stand_in_utility(p) for p in scored)
    assert len({p.strip() for p in scored}) == len(scored)


CONTINUED = RECORDINGS / "improvers_refine_code.jsonl"


@pytest.mark.skipif(not CONTINUED.is_file(), reason="recording missing")
def test_refine_continues_the_program_in_its_local_search_replies(tmp_path: Path) -> None:
    from selftaught.tasks import get_task

    seed = get_task(TASK).seed_solution
    kept = seed[: seed.rindex("    return")].rstrip()  # the seed up to its final return
    backend = ReplayBackend(CONTINUED)
    outcome, lm, scored = run_session("refine", backend, tmp_path, code=True)
    assert outcome.status == "ok", outcome.error
    assert lm.calls_used >= 1
    openings = [rec["messages"][-1][1] for rec in load_recording(CONTINUED).values()]
    continued = [o for o in openings if "# New step: local search" in o]
    # the local-search replies open inside the seed, after the contract's rule
    assert continued and all(o.startswith(CODE_PREFIX + "# Runs alone") for o in continued)
    assert all(kept in o for o in continued)
    # The continued replies became whole programs (the seed up to its return, the model's step,
    # the seed's own return): each was scored, and in this recording one is the session's best.
    stepped = [p for p in scored if "# New step: local search" in p]
    last_kept = kept.splitlines()[-1]  # the seed's last line before its return
    assert stepped and all(last_kept in p and p.count("def algorithm(") == 1 for p in stepped)
    assert outcome.result in stepped


def record() -> None:
    """Re-record every improver's session from the real 0.5B model (slow; needs the weights)."""
    import tempfile

    from selftaught.lm import open_model

    for name in sys.argv[2:] or NAMES:
        code = name == "refine_code"  # the code-decoded refine session
        path = RECORDINGS / f"improvers_{name}.jsonl"
        path.unlink(missing_ok=True)
        backend = open_model(RECORDED_MODEL, cache=False, record=path)
        with tempfile.TemporaryDirectory() as tmp:
            outcome, lm, scored = run_session("refine" if code else name, backend, Path(tmp), code)
        best = max(map(stand_in_utility, scored), default=0)
        print(f"{name}: {outcome.status} calls={lm.calls_used} scored={len(scored)} best={best}")


if __name__ == "__main__" and sys.argv[1:2] == ["--record"]:
    record()
