"""The runtime contract the model is shown is generated from a task's declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from selftaught.config import CODE_PREFIX, RunConfig
from selftaught.core.meta import STRATEGY_FAMILIES, meta_steps, meta_utility_text
from selftaught.errors import ConfigError
from selftaught.improvers.catalog import get_improver
from selftaught.tasks import get_task, load_task_file, task_names
from selftaught.tasks.contract import (
    CONTINUE_MARKER,
    CONTINUE_STEP,
    CONTRACT_HEADING,
    code_reply_prefix,
    continuation_closing,
    continuation_prefix,
    function_head,
    reply_stops,
    runtime_contract,
    shown_utility_text,
)

TASK_FILE = """
NAME = "contract_demo"
DESCRIPTION = "Sort numbers."
ENTRY = "arrange"
SIGNATURE = "arrange(numbers: list[int]) -> list[int] (the same numbers, ascending)"
SEED = "def arrange(numbers):\\n    return list(numbers)\\n"
UTILITY_TEXT = "import random\\n\\ndef utility(algorithm_str):\\n    return 1.0\\n"
TIME_LIMIT_SECONDS = 0.25
MEMORY_MB = 256


def make_instance(rng, split, index):
    return ([rng.randint(0, 9) for _ in range(5)],), {}


def score(instance, answer):
    return float(answer == sorted(instance.args[0]))
"""


def test_a_task_files_contract_states_its_own_declarations(tmp_path: Path) -> None:
    path = tmp_path / "contract_demo.py"
    path.write_text(TASK_FILE)
    text = runtime_contract(load_task_file(path))
    flat = " ".join(line.lstrip("# ").strip() for line in text.splitlines())
    assert "arrange(numbers: list[int]) -> list[int] (the same numbers, ascending)" in flat
    assert "Keep the name 'arrange'" in flat
    assert "0.25 s of CPU time, 256 MiB of memory" in flat
    assert "standard library and numpy" in flat and "scipy, sklearn" in flat
    assert "import every module it uses" in flat
    assert all(line.startswith("#") and len(line) <= 100 for line in text.splitlines())


@pytest.mark.parametrize("name", list(task_names()))
def test_every_built_in_task_shows_its_contract_after_its_utility(name: str) -> None:
    task = get_task(name)
    shown = shown_utility_text(task)
    assert shown.startswith(task.utility_text.rstrip()) and task.entry in runtime_contract(task)
    assert shown.endswith(runtime_contract(task))
    assert shown_utility_text(task, contract=False) == task.utility_text
    compile(shown, name, "exec")  # still readable Python


def test_the_meta_level_sees_the_contract_except_in_paper_mode() -> None:
    task = get_task("parity_noise")
    assert runtime_contract(task) in meta_utility_text(task, RunConfig())
    assert runtime_contract(task) not in meta_utility_text(task, RunConfig(paper_mode=True))


def test_the_meta_utility_can_be_shown_by_its_docstring_except_in_paper_mode() -> None:
    task = get_task("parity_noise")
    shown = meta_utility_text(task, RunConfig())
    described = meta_utility_text(task, RunConfig(meta_utility_code=False))
    assert "run_improver(" in shown and "run_improver" not in described
    assert "fresh_language_model" not in described and "import mean" not in described
    docstring = shown.split('"""')[1]
    assert docstring in described and "its code is left out here" in described
    assert "Nothing of the meta-utility is in scope" in described
    assert (
        shown.split("# The downstream task's utility:")[1]
        == described.split("# The downstream task's utility:")[1]
    )  # the task's own utility is shown the same way
    paper = RunConfig(paper_mode=True, meta_utility_code=False)
    assert "run_improver(" in meta_utility_text(task, paper)  # the paper's prompt


def test_decoding_defaults_to_code_for_local_models_and_plain_for_servers_and_the_paper() -> None:
    assert RunConfig().reply_prefix == CODE_PREFIX == "```python\n"
    assert RunConfig(model="openai:qwen").reply_prefix == ""
    assert RunConfig(model="openai:qwen", decoding="code").reply_prefix == CODE_PREFIX
    assert RunConfig(decoding="plain").reply_prefix == ""
    paper = RunConfig(paper_mode=True, decoding="code")
    assert paper.reply_prefix == "" and not paper.shows_guidance
    with pytest.raises(ConfigError, match="unknown decoding 'greedy'"):
        RunConfig(decoding="greedy")


def test_code_decoding_starts_inside_the_entry_function_after_the_rule_and_imports() -> None:
    head = function_head(
        "arrange(numbers: list[int], key: dict[str, int] = None) -> int", "arrange"
    )
    assert head == "def arrange(numbers, key):\n"
    assert function_head("arrange -> a sorted list", "arrange") == "def arrange("
    prefix = code_reply_prefix(CODE_PREFIX, ("yaml",), head)
    assert prefix.startswith("```python\n# Runs alone: import every module used.")
    assert "Installed: the standard library, numpy, yaml, nothing else." in prefix
    assert "import numpy as np\n" in prefix and prefix.endswith(
        "\n\n\ndef arrange(numbers, key):\n"
    )
    assert code_reply_prefix("", ("yaml",), head) == ""  # plain decoding: no prefix
    compile(prefix.removeprefix(CODE_PREFIX) + "    return numbers\n", "reply", "exec")


def test_a_continued_reply_starts_inside_the_program_just_before_its_entry_returns() -> None:
    seed = get_improver("seed").source()
    prefix = continuation_prefix(CODE_PREFIX, seed, "improve_algorithm")
    assert prefix is not None and prefix.startswith(CODE_PREFIX + seed.splitlines()[0])
    kept, marker = prefix.removeprefix(CODE_PREFIX).rstrip("\n").rsplit("\n", 1)
    assert marker == f"    {CONTINUE_MARKER}"
    assert kept.rstrip().endswith("best_solution = max(new_solutions, key=utility)")
    assert "return best_solution" not in prefix
    # what the model writes after it completes a whole program
    reply = prefix.removeprefix(CODE_PREFIX) + "    return best_solution\n"
    compile(reply, "reply", "exec")


def test_a_continued_reply_is_one_step_closed_by_the_programs_own_return() -> None:
    seed = get_improver("seed").source()
    closing = continuation_closing(seed, "improve_algorithm")
    assert closing == ("\n    # New step", "\n\n    return best_solution\n")
    prefix = continuation_prefix(CODE_PREFIX, seed, "improve_algorithm", "keep the input")
    assert prefix is not None
    # what a small model writes: its step, then a second one, which the marker cuts off
    reply = prefix + "    best_solution = best_solution or initial_solution\n    # New step: more"
    body = reply[: reply.index(closing[0], len(prefix))] + closing[1]
    compile(body.removeprefix(CODE_PREFIX), "reply", "exec")
    assert body.endswith("initial_solution\n\n    return best_solution\n")
    assert continuation_closing("def other(s):\n    return s\n", "improve_algorithm") is None


@pytest.mark.parametrize(
    "program",
    [
        "def improve_algorithm(s, u, m):\n    for x in s:\n        return x\n",  # no final return
        "def improve_algorithm(s, u, m):\n    return s\n\n\nHELPER = 1\n",  # entry not last
        "def other(s):\n    return s\n",  # no entry
        "def improve_algorithm(s, u, m):\n    return (\n",  # does not parse
    ],
)
def test_a_program_that_cannot_be_continued_falls_back(program: str) -> None:
    assert continuation_prefix(CODE_PREFIX, program, "improve_algorithm") is None


def test_continuing_the_parent_needs_code_decoding_and_is_off_in_paper_mode() -> None:
    assert RunConfig().continues_parent  # the default, with the embedded model
    assert not RunConfig(meta_continue=False).continues_parent
    assert RunConfig(meta_continue=True).continues_parent
    assert not RunConfig(meta_continue=True, decoding="plain").continues_parent
    assert not RunConfig(meta_continue=True, paper_mode=True).continues_parent
    seed = get_improver("seed").source()
    assert continuation_prefix("", seed, "improve_algorithm") is None


def test_continued_meta_replies_open_the_strategy_families_in_turn() -> None:
    cfg = RunConfig(meta_continue=True, max_responses_per_call=4)
    assert meta_steps(cfg, 1) == STRATEGY_FAMILIES[:4]
    assert meta_steps(cfg, 2) == (*STRATEGY_FAMILIES[4:7], STRATEGY_FAMILIES[0])
    # without guidance (so also in paper mode), or switched off: every reply opens the generic step
    for off in (
        cfg.replace(guidance=False),
        cfg.replace(paper_mode=True),
        cfg.replace(meta_step_families=False),
    ):
        assert meta_steps(off, 1) == (CONTINUE_STEP,)
    seed = get_improver("seed").source()
    prefix = continuation_prefix(CODE_PREFIX, seed, "improve_algorithm", STRATEGY_FAMILIES[0])
    assert prefix is not None and prefix.endswith(f"\n    # New step: {STRATEGY_FAMILIES[0]}.\n")


@pytest.mark.parametrize("name", task_names())
def test_a_code_reply_stops_where_the_code_block_closes_or_the_utility_is_copied(name: str) -> None:
    task = get_task(name)
    stops = reply_stops(CODE_PREFIX, shown_utility_text(task))
    assert stops == ("\n```", "\ndef utility(", f"\n{CONTRACT_HEADING}")
    # the contract is not shown: a reply cannot copy it
    assert reply_stops(CODE_PREFIX, shown_utility_text(task, contract=False))[-1] != stops[-1]
    assert reply_stops("", shown_utility_text(task)) == ()  # plain decoding (paper): no stop


def test_the_meta_level_stops_only_at_a_copied_meta_utility() -> None:
    text = meta_utility_text(get_task("maxcut"), RunConfig(task="maxcut"))
    # an improver's prompts hold fences of their own, so a fence must not end its reply
    assert reply_stops(CODE_PREFIX, text, closes_block=False) == ("\ndef meta_utility(",)
    assert reply_stops(CODE_PREFIX, "no function here", closes_block=False) == ()
