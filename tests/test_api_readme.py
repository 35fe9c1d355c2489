"""`import selftaught` exposes the documented entry points, and the README's notebook example runs
as written (with a scripted model, the unsandboxed test channel and a fake scorer for the loop)."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from loop_support import ScriptedBackend, local_channel_factory, marker_score
from test_loop_resume import CANDIDATE

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    api = text[text.index("## Python API") :]
    return re.search(r"```python\n(.*?)```", api, re.S).group(1)


def test_import_selftaught_exposes_the_entry_points() -> None:
    code = (
        "import selftaught, sys\n"
        "assert 'selftaught.search' not in sys.modules  # cheap until used\n"
        "assert selftaught.tasks.get_task('maxcut').name == 'maxcut'\n"
        "for name in selftaught.__all__:\n"
        "    assert callable(getattr(selftaught, name)), name\n"
        "from selftaught.search.run import run_stop\n"
        "assert selftaught.run_stop is run_stop\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(ROOT / "src")})


def test_the_readme_notebook_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import selftaught.search.preflight as preflight
    import selftaught.search.run as run_module

    source = readme_example()
    assert 8 <= len(source.strip().splitlines()) <= 14
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        run_module,
        "Plumbing",
        partial(
            run_module.Plumbing,
            backend=ScriptedBackend(CANDIDATE),
            channel_factory=local_channel_factory,
            score_fn=marker_score,
        ),
    )
    monkeypatch.setattr(preflight, "check_model", lambda *args, **kwargs: None)
    exec(compile(source, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert float(printed[0]) >= 0.0
    assert [line.split()[0] for line in printed[1:3]] == ["0", "1"]
    assert printed[-1].endswith("report.html") and Path(printed[-1]).is_file()
