"""ImproverSession protocol: proxies, budgets and recorded circumvention (unsandboxed channel).

The same harness runs under the real sandbox in test_loop_isolation.py; here a plain subprocess
keeps the protocol tests fast.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

from loop_support import local_channel_factory
from selftaught.core.session import ImproverSession, SessionSpec
from selftaught.lm.budget import BudgetedLanguageModel
from selftaught.lm.types import Sample, SampleRequest, Usage
from selftaught.store.db import RunStore, sha256_text

SEED = resources.files("selftaught.improvers").joinpath("seed.py").read_text()


class CountingBackend:
    spec = "fake"
    usage = Usage()

    def __init__(self) -> None:
        self.requests: list[SampleRequest] = []
        self.lock = threading.Lock()

    def generate(self, requests: list[SampleRequest]) -> list[list[Sample]]:
        with self.lock:
            self.requests.extend(requests)
        return [
            [
                Sample(f"```python\ndef algorithm():\n    return {i}\n```", 5, 5, 0.0)
                for i in r.indices
            ]
            for r in requests
        ]


def run(tmp_path: Path, source: str, *, lm_budget: int = 1, utility_budget: int = 4):
    store = RunStore(tmp_path)
    backend = CountingBackend()
    lm = BudgetedLanguageModel(backend, lm_budget, max_responses_per_call=4, max_tokens=64)
    scored: list[str] = []

    def utility(program: str) -> float:
        scored.append(program)
        return float(program.count("3"))  # prefers the sample with index 3

    spec = SessionSpec(
        key="test/session",
        improver_source=source,
        improver_sha=sha256_text(source),
        initial_solution="def algorithm():\n    return 0\n",
        entry="algorithm",
        utility_text="def utility(s): ...",
        utility_budget=utility_budget,
        seed=1,
        wall_seconds=30,
    )
    session = ImproverSession(spec, lm, utility, store, channel_factory=local_channel_factory)
    return session.run(), store, backend, lm, scored


def test_seed_improver_returns_the_best_candidate(tmp_path: Path) -> None:
    outcome, store, backend, lm, scored = run(tmp_path, SEED)
    assert outcome.status == "ok", outcome.error
    assert outcome.result == "def algorithm():\n    return 3"
    assert (outcome.lm_calls, outcome.utility_calls, outcome.attempts) == (1, 4, 0)
    assert len(backend.requests) == 1 and backend.requests[0].n == 4  # one batched request
    assert len(scored) == 4 and lm.calls_used == 1
    assert len(store.events("lm_call")) == 1


HOSTILE = """
import helpers
from helpers import LanguageModel

def improve_algorithm(initial_solution, utility, language_model):
    language_model.budget = 10**6
    language_model.max_responses_per_call = 100
    utility.budget = 10**6
    bigger = LanguageModel(budget=10**6)
    try:
        import selftaught.tasks
    except ImportError:
        pass
    first = language_model.batch_prompt("x", ["a"], temperature=0.7)
    try:
        bigger.batch_prompt("x", ["b"], temperature=0.7)
        second_call = "granted"
    except Exception:
        second_call = "refused"
    scores = []
    try:
        for _ in range(6):
            scores.append(utility(first[0], use_sandbox=False))
    except Exception:
        pass
    return "def algorithm():\\n    return '%s %d'\\n" % (second_call, len(scores))
"""


def test_hostile_improver_gains_nothing_and_every_attempt_is_recorded(tmp_path: Path) -> None:
    outcome, store, backend, lm, scored = run(tmp_path, HOSTILE, lm_budget=1, utility_budget=2)
    assert outcome.status == "ok", outcome.error
    assert outcome.result is not None
    assert "refused 2" in outcome.result  # second LM call refused; only 2 utility calls granted
    assert lm.calls_used == 1 and len(backend.requests) == 1
    assert len(scored) == 2
    kinds = [e["kind"] for e in store.events()]
    assert kinds.count("attribute_write") == 3
    assert "language_model_construct" in kinds
    assert "orchestrator_import" in kinds
    assert kinds.count("use_sandbox_false") >= 2
    assert kinds.count("budget_refusal") >= 2  # one LM, at least one utility
    assert {"source_sets_budget", "source_constructs_language_model"} <= set(kinds)
    assert {"source_imports_orchestrator", "source_disables_sandbox"} <= set(kinds)


def test_crashing_and_empty_improvers_return_nothing(tmp_path: Path) -> None:
    crash = "def improve_algorithm(s, u, l):\n    raise RuntimeError('boom')\n"
    outcome, *_ = run(tmp_path / "a", crash)
    assert outcome.result is None and outcome.status == "error" and "boom" in outcome.error
    empty = "def improve_algorithm(s, u, l):\n    return 42\n"
    outcome, *_ = run(tmp_path / "b", empty)
    assert outcome.result is None and "int" in outcome.error
    missing = "x = 1\n"
    outcome, *_ = run(tmp_path / "c", missing)
    assert outcome.result is None and "improve_algorithm" in outcome.error


def test_forged_frames_are_refused_and_recorded(tmp_path: Path) -> None:
    forged = (
        "import sandbox_channel\n"
        "def improve_algorithm(s, u, l):\n"
        "    sandbox_channel.send({'op': 'set_budget', 'budget': 999})\n"
        "    reply = sandbox_channel.recv()\n"
        "    sandbox_channel.send({'op': 'event', 'kind': 'fake_success'})\n"
        "    return s if not reply.get('ok') else 'def algorithm():\\n    return 9\\n'\n"
    )
    outcome, store, *_ = run(tmp_path, forged)
    assert outcome.result == "def algorithm():\n    return 0\n"
    assert len(store.events("protocol_violation")) == 2


def test_waiting_for_answers_does_not_count_against_the_wall_limit(tmp_path: Path) -> None:
    import time

    from selftaught.core.session import ImproverSession, SessionSpec

    source = (
        "def improve_algorithm(s, utility, lm):\n    utility(s)\n    utility(s)\n    return s\n"
    )

    def slow_utility(program: str) -> float:
        time.sleep(1.5)
        return 0.5

    store = RunStore(tmp_path)
    lm = BudgetedLanguageModel(CountingBackend(), 1, max_responses_per_call=2, max_tokens=8)
    spec = SessionSpec(
        "slow",
        source,
        sha256_text(source),
        "def algorithm():\n    return 0\n",
        "algorithm",
        "u",
        4,
        0,
        wall_seconds=2.0,
    )
    outcome = ImproverSession(
        spec, lm, slow_utility, store, channel_factory=local_channel_factory
    ).run()
    assert outcome.status == "ok", outcome.error
    sleeper = (
        "import time\ndef improve_algorithm(s, utility, lm):\n    time.sleep(30)\n    return s\n"
    )
    spec = SessionSpec(
        "sleepy", sleeper, sha256_text(sleeper), "x = 1\n", "algorithm", "u", 4, 0, wall_seconds=1.0
    )
    start = time.monotonic()
    outcome = ImproverSession(
        spec, lm, slow_utility, store, channel_factory=local_channel_factory
    ).run()
    assert outcome.status == "timeout" and time.monotonic() - start < 10


def test_utility_exposes_the_validation_error_of_its_last_call(tmp_path: Path) -> None:
    from selftaught.core.session import MAX_ERROR_CHARS
    from selftaught.store.db import Evaluation

    errors = {"bad": "NameError: name 'x' is not defined", "long": "E" * 5000}

    def utility(program: str) -> Evaluation:
        key = program.strip()
        return Evaluation(0.0 if key in errors else 1.0, 0.0, errors.get(key))

    improver = (
        "def improve_algorithm(s, u, l):\n"
        "    seen = [getattr(u, 'last_error', 'missing')]\n"
        "    for p in ('bad', 'good', 'long'):\n"
        "        u(p)\n"
        "        seen.append(u.last_error)\n"
        "    return 'def algorithm():\\n    return ' + repr(seen) + '\\n'\n"
    )
    store = RunStore(tmp_path)
    lm = BudgetedLanguageModel(CountingBackend(), 1, max_responses_per_call=1, max_tokens=8)
    spec = SessionSpec(
        key="test/errors",
        improver_source=improver,
        improver_sha=sha256_text(improver),
        initial_solution="def algorithm():\n    return 0\n",
        entry="algorithm",
        utility_text="def utility(s): ...",
        utility_budget=4,
        seed=1,
        wall_seconds=30,
    )
    session = ImproverSession(spec, lm, utility, store, channel_factory=local_channel_factory)
    outcome = session.run()
    assert outcome.status == "ok", outcome.error
    seen = eval(outcome.result.split("return ", 1)[1])
    assert seen[:3] == [None, errors["bad"], None]
    assert len(seen[3]) == MAX_ERROR_CHARS and seen[3].startswith("EEE")
