"""Declared packages: a task file's PACKAGES become importable (read-only) for its candidates only.

`yaml` (PyYAML) and `pygments` are installed in selftaught's environment as dependencies but are
not importable in the sandbox unless a task declares them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from selftaught.errors import ConfigError
from selftaught.sandbox import Limits, importable_packages, package_problem, run_function
from selftaught.sandbox import api as sandbox_api
from selftaught.tasks import NullScoreCache, load_task_file, score_program

TASK = """\
NAME = "{name}"
DESCRIPTION = "Dump a dict as YAML."
SIGNATURE = "algorithm(key) -> str"
SEED = "def algorithm(key):\\n    return key + ': 1\\\\n'\\n"
UTILITY_TEXT = "def utility(algorithm_str):\\n    return 0.0\\n"
SPLIT_SIZES = {{"val": 2, "test": 2}}
TIME_LIMIT_SECONDS = 2.0
{packages}

def make_instance(rng, split, index):
    return ("k%d" % index,), {{}}


def score(instance, answer):
    return 1.0 if answer == instance.args[0] + ": 1\\n" else 0.0
"""
USES_YAML = "import yaml\n\ndef algorithm(key):\n    return yaml.safe_dump({key: 1})\n"
FAST = Limits(wall_seconds=10)


def task_file(tmp_path: Path, name: str, packages: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(TASK.format(name=name, packages=packages)))
    return path


def test_an_undeclared_package_fails_and_a_declared_one_works(tmp_path: Path) -> None:
    plain = load_task_file(task_file(tmp_path, "yaml_plain", ""))
    declared = load_task_file(task_file(tmp_path, "yaml_declared", 'PACKAGES = ["yaml"]'))
    assert plain.packages == () and declared.packages == ("yaml",)
    assert declared.summary()["packages"] == ["yaml"]
    refused = score_program(plain, USES_YAML, "val", cache=NullScoreCache())
    assert refused.score == 0.0 and "No module named 'yaml'" in refused.error
    allowed = score_program(declared, USES_YAML, "val", cache=NullScoreCache())
    assert allowed.score == 1.0 and allowed.error is None
    # the seed needs nothing: both tasks score it
    assert score_program(plain, plain.seed_solution, "val", cache=NullScoreCache()).score == 1.0


def test_declared_packages_are_read_only_and_exact() -> None:
    source = (
        "import os, yaml\n"
        "def f():\n"
        "    import importlib.util\n"
        "    here = os.path.dirname(yaml.__file__)\n"
        "    try:\n"
        "        open(os.path.join(here, 'evil.py'), 'w').write('x = 1')\n"
        "        wrote = True\n"
        "    except OSError:\n"
        "        wrote = False\n"
        "    others = [m for m in ('pygments', 'rich', 'typer', 'selftaught')\n"
        "              if importlib.util.find_spec(m) is not None]\n"
        "    return {'wrote': wrote, 'others': others}\n"
    )
    result = run_function(source, "f", [], FAST, packages=["yaml"])
    assert result.status == "ok", result.error
    assert result.value == {"wrote": False, "others": []}


def test_zygotes_of_different_package_sets_share_the_slots(monkeypatch) -> None:
    """With a single slot, calls alternating between package sets still run (an idle zygote of
    the other set is closed for the new one), each with exactly its own packages."""
    sandbox_api.shutdown()
    monkeypatch.setattr(sandbox_api, "MAX_POOL_SLOTS", 1)
    probe = (
        "import importlib.util\n"
        "def f():\n"
        "    return [m for m in ('yaml', 'pygments') if importlib.util.find_spec(m)]\n"
    )
    try:
        for packages, expected in [
            (["yaml"], ["yaml"]),
            (["pygments"], ["pygments"]),
            ([], []),
            (["yaml", "pygments"], ["yaml", "pygments"]),
            (["yaml"], ["yaml"]),
        ]:
            result = run_function(probe, "f", [], FAST, packages=packages)
            assert result.status == "ok" and result.value == expected, (packages, result)
            assert len(sandbox_api.get_pool()._all) == 1
    finally:
        sandbox_api.shutdown()


def test_importable_packages() -> None:
    assert importable_packages() == ("numpy",)
    assert importable_packages(("yaml", "numpy", "yaml")) == ("numpy", "yaml")


@pytest.mark.parametrize(
    ("packages", "message"),
    [
        ('PACKAGES = "yaml"', "PACKAGES must be a list of import names such as ['scipy']"),
        ('PACKAGES = ["PyYAML-6"]', "'PyYAML-6' is not an import name"),
        ('PACKAGES = ["json"]', "'json' is in the standard library"),
        ('PACKAGES = ["selftaught"]', "'selftaught' cannot be made importable"),
        ('PACKAGES = ["no_such_package_xyz"]', "'no_such_package_xyz' is not installed"),
    ],
)
def test_bad_declarations_are_one_line_errors(tmp_path: Path, packages: str, message: str) -> None:
    path = task_file(tmp_path, "bad_packages", packages)
    with pytest.raises(ConfigError) as info:
        load_task_file(path)
    text = str(info.value)
    assert "\n" not in text and message in text
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if "PACKAGES" in row)
    assert text.startswith(f"{path.resolve()}:{line}: ")


def test_package_problem_accepts_installed_packages() -> None:
    assert package_problem("yaml") is None and package_problem("numpy") is None


def test_doctor_lists_a_tasks_packages(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from selftaught.cli.app import app

    path = task_file(tmp_path, "yaml_doctor", 'PACKAGES = ["yaml"]')
    done = CliRunner().invoke(app, ["doctor", "--task", str(path), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["task"] == "yaml_doctor"
    assert [(p["name"], p["importable"]) for p in report["packages"]] == [
        ("numpy", True),
        ("yaml", True),
    ]
    text = CliRunner().invoke(app, ["doctor"])
    assert text.exit_code == 0 and "numpy" in text.stdout and "yaml" not in text.stdout
    bad = CliRunner().invoke(app, ["doctor", "--task", "no_such_task"])
    assert bad.exit_code == 2 and bad.output.startswith("error: ")
