"""bench/bench_repairs.py on a run store holding a failing, a repairable and a valid program,
scored by the real scorer (maxcut's val split)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from selftaught.store.db import Evaluation, RunStore

ROOT = Path(__file__).resolve().parents[1]
GREEDY = """def algorithm(adjacency_matrix):
    n = len(adjacency_matrix)
    labels = []
    for node in range(n):
        row = adjacency_matrix[node]
        same = [sum(row[j] for j in range(node) if labels[j] == side) for side in (0, 1)]
        labels.append(0 if same[0] <= same[1] else 1)
    return labels
"""
# np.sum of a generator: a TypeError since numpy 2, rescued by the list repair
REPAIRABLE = "import numpy as np\n" + GREEDY.replace("sum(row[j]", "np.sum(row[j]")
# a second version calling the first, but the first version raises: changed, not rescued
HOPELESS = "def algorithm(a):\n    return 1 / 0\n\ndef algorithm(a):\n    return algorithm(a)\n"


def test_repairs_are_applied_to_stored_programs_and_rescues_counted(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs" / "cell")
    for source, score in ((GREEDY, 0.5), (REPAIRABLE, 0.0), (HOPELESS, 0.0)):
        sha = store.add_program(source, "candidate")
        store.add_evaluation(sha, "maxcut", "val", Evaluation(score, 0.1, None))
    store.close()
    out = tmp_path / "repairs.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    script = str(ROOT / "bench" / "bench_repairs.py")
    done = subprocess.run(
        [sys.executable, script, str(tmp_path / "runs"), "--json", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["programs"] == {"programs": 3, "failing": 2}
    numpy = result["repairs"]["list_for_numpy_generators"]
    zero = {"valid made worse": 0, "valid made better": 0}
    assert numpy == {"changed": 1, "failing": 1, "rescued": 1, **zero}
    shadowed = result["repairs"]["rename_shadowed_versions"]
    # it no longer recurses, and fails with ZeroDivisionError: changed, not rescued
    assert shadowed == {"changed": 1, "failing": 1, "rescued": 0, **zero}
    assert "rescued 1 (50.0% of the failing)" in done.stdout
