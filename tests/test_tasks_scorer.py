"""The sandboxed scorer: known solutions score as expected, every failure is contained."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from selftaught.tasks import NullScoreCache, get_task, score_program

SOLUTIONS = Path(__file__).parent / "fixtures" / "solutions"

# (task, instances used, seed score range, margin by which the reference must beat the seed)
KNOWN = [
    ("parity_noise", 10, (0.3, 0.7), 0.3),
    ("parity_noiseless", 10, (0.3, 0.7), 0.3),
    ("str_grid_dist", 20, (0.3, 0.5), 0.4),
    ("quadratic_assignment", 4, (0.2, 0.45), 0.04),
    ("three_sat", 15, (0.0, 0.8), 0.2),  # the paper's seed solved 0%
    ("maxcut", 20, (0.2, 0.45), 0.04),
]


def run(task: str, source: str, limit: int = 2, split: str = "val"):  # type: ignore[no-untyped-def]
    return score_program(task, source, split, cache=NullScoreCache(), limit=limit)


@pytest.mark.parametrize(("name", "limit", "seed_range", "margin"), KNOWN)
def test_seed_and_reference_scores(
    name: str, limit: int, seed_range: tuple[float, float], margin: float
) -> None:
    task = get_task(name)
    seed = run(name, task.seed_solution, limit)
    reference = run(name, (SOLUTIONS / f"{name}_ref.py").read_text(), limit)
    assert reference.error is None, reference.error
    # The 3-SAT seed gives up on some formulas only when its time is up: those time out.
    assert seed.error is None or (name == "three_sat" and "timed out" in seed.error), seed.error
    assert seed.instances == reference.instances == limit
    assert seed_range[0] <= seed.score <= seed_range[1], seed.score
    assert reference.score >= seed.score + margin, (seed.score, reference.score)
    assert len(reference.instance_scores) == limit and reference.failed == 0


# --- failures ---------------------------------------------------------------------------------


def marked_processes(marker: str) -> list[int]:
    """Pids of live processes whose command line contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if marker in cmdline and "State:\tZ" not in status:
            found.append(int(entry.name))
    return found


def live_descendants() -> int:
    """How many live (non-zombie) processes descend from this one."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    count, frontier = 0, {os.getpid()}
    while frontier:
        children = {pid for pid, ppid in parents.items() if ppid in frontier}
        count += len(children)
        frontier = children
    return count


def check_failure(name: str, source: str, *, expect: str, limit: int = 2) -> None:
    """Score `source`; require score 0, a readable error mentioning `expect`, promptness, and
    no process left behind (the sandbox's idle pool is warmed first, so it does not count)."""
    task = get_task(name)
    run(name, task.seed_solution, limit)
    before = live_descendants()
    start = time.monotonic()
    result = run(name, source, limit)
    elapsed = time.monotonic() - start
    time.sleep(0.1)
    assert live_descendants() <= before
    assert result.score == 0.0
    assert result.error is not None and expect in result.error, result.error
    assert f"{limit} of {limit} instances failed" in result.error
    assert len(result.error) < 1000 and "\n" not in result.error
    # Each instance may use its whole time limit; instances run at least one at a time.
    assert elapsed < limit * task.time_limit_seconds + 5.0, elapsed


def test_syntax_error_is_reported_without_running() -> None:
    start = time.monotonic()
    check_failure("maxcut", "def algorithm(adjacency_matrix:\n    return []\n", expect="syntax")
    assert time.monotonic() - start < 1.0


def test_missing_entry_function() -> None:
    check_failure("maxcut", "def solve(adjacency_matrix):\n    return []\n", expect="missing")


def test_empty_source() -> None:
    check_failure("maxcut", "   \n", expect="empty")


def test_exception() -> None:
    source = "def algorithm(t, dist):\n    raise ValueError('boom in candidate')\n"
    check_failure("str_grid_dist", source, expect="boom in candidate")


def test_a_name_of_the_shown_utility_is_explained() -> None:
    source = "def algorithm(clauses, n_vars):\n    return [utility(c) for c in clauses]\n"
    check_failure("three_sat", source, expect="utility() is the utility's own function")


def test_an_exception_names_the_line_that_raised_it() -> None:
    source = "def algorithm(t, dist):\n    width = len(t)\n    return t[width * 2]\n"
    check_failure("str_grid_dist", source, expect="in algorithm(): `return t[width * 2]`")


def test_exception_at_import_time() -> None:
    source = "import no_such_module_xyz\n\ndef algorithm(t, dist):\n    return t\n"
    check_failure("str_grid_dist", source, expect="no_such_module_xyz")


def test_infinite_loop() -> None:
    source = "def algorithm(clauses, n_vars):\n    while True:\n        pass\n"
    check_failure("three_sat", source, expect="timed out")


def test_sleeping_forever() -> None:
    source = "import time\n\ndef algorithm(clauses, n_vars):\n    time.sleep(1000)\n"
    check_failure("three_sat", source, expect="timed out")


def test_memory_bomb() -> None:
    source = (
        "def algorithm(t, dist):\n"
        "    hog = []\n"
        "    while True:\n"
        "        hog.append(bytearray(50 * 1024 * 1024))\n"
    )
    task = get_task("str_grid_dist")
    result = run("str_grid_dist", source)
    assert result.score == 0.0 and result.error is not None
    assert any(word in result.error.lower() for word in ("memory", "timed out")), result.error
    assert result.seconds < 2 * task.time_limit_seconds + 5.0


@pytest.mark.parametrize(
    ("returned", "expect"),
    [
        ("{'labels': [0, 1]}", "expected a list"),
        ("[0] * (len(adjacency_matrix) - 1)", "expected a list"),
        ("[[0]] * len(adjacency_matrix)", "must be 0 or 1"),
        ("[2] * len(adjacency_matrix)", "must be 0 or 1"),
        ("None", "expected a list"),
    ],
)
def test_wrong_type_or_shape(returned: str, expect: str) -> None:
    source = f"def algorithm(adjacency_matrix):\n    return {returned}\n"
    check_failure("maxcut", source, expect=expect)


def test_parity_shape_hack_scores_zero() -> None:
    # The reference compared a (20, 1) array with 20 labels by broadcasting: accuracy far above 1.
    source = (
        "def algorithm(train_samples, train_labels, test_samples):\n"
        "    return [[0] for _ in test_samples] + [[1] for _ in test_samples]\n"
    )
    check_failure("parity_noiseless", source, expect="invalid answer")


def test_unserialisable_answer() -> None:
    source = "def algorithm(t, dist):\n    return {1, 2, 3}\n"
    result = run("str_grid_dist", source)
    assert result.score == 0.0 and result.error is not None and result.failed == 2


def test_huge_output() -> None:
    source = "def algorithm(t, dist):\n    return 'A' * (20 * 1024 * 1024)\n"
    check_failure("str_grid_dist", source, expect="output")


def test_printing_a_lot_does_not_break_scoring() -> None:
    source = (
        "import sys\n\n"
        "def algorithm(t, dist):\n"
        "    for _ in range(2000):\n"
        "        print('spam' * 1000)\n"
        "        sys.stderr.write('noise' * 1000)\n"
        "    return t\n"
    )
    result = run("str_grid_dist", source)
    seed = run("str_grid_dist", get_task("str_grid_dist").seed_solution)
    assert result.score == seed.score and result.error is None


def test_detached_child_process_is_killed() -> None:
    marker = "987654321"
    source = (
        "import os, time\n\n"
        "def algorithm(t, dist):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            os.setsid()\n"
        "            if os.fork() == 0:\n"
        f"                os.execv('/bin/sleep', ['sleep', '{marker}'])\n"
        "            os._exit(0)\n"
        "    except OSError:\n"
        "        pass\n"
        "    return t\n"
    )
    result = run("str_grid_dist", source)
    assert 0.0 <= result.score <= 1.0
    time.sleep(0.2)
    assert marked_processes(marker) == []


def test_tampering_with_inputs_changes_nothing() -> None:
    task = get_task("maxcut")
    before = [i.args for i in task.make_instances("val", 2)]
    reference = (SOLUTIONS / "maxcut_ref.py").read_text()
    tamper = reference.replace("def algorithm(", "def _honest(") + (
        "\n\ndef algorithm(adjacency_matrix):\n"
        "    labels = _honest(adjacency_matrix)\n"
        "    for row in adjacency_matrix:  # try to make every edge look cut / heavier\n"
        "        for j in range(len(row)):\n"
        "            row[j] = 1000\n"
        "    adjacency_matrix.append([1000] * len(adjacency_matrix))\n"
        "    return labels\n"
    )
    honest = run("maxcut", reference)
    tampered = run("maxcut", tamper)
    assert tampered.error is None
    assert tampered.score == honest.score and tampered.score < 1.0
    assert [i.args for i in task.make_instances("val", 2)] == before


def test_hidden_labels_never_reach_the_candidate() -> None:
    # The candidate hunts through its own process for anything that looks like the answers.
    source = (
        "import gc\n\n"
        "def algorithm(train_samples, train_labels, test_samples):\n"
        "    for obj in gc.get_objects():\n"
        "        if isinstance(obj, dict) and 'test_labels' in obj:\n"
        "            return list(obj['test_labels'])\n"
        "    return [0] * len(test_samples)\n"
    )
    result = run("parity_noiseless", source, limit=10)
    assert result.error is None and result.score < 0.9
