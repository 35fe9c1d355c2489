"""Code extraction: nested fences, several blocks, truncated responses."""

from __future__ import annotations

from importlib import resources

from selftaught.core.extract import candidate_blocks, defines_function, extract_code, extract_one

SEED = resources.files("selftaught.improvers").joinpath("seed.py").read_text()


def test_nested_fences_inside_code_are_kept() -> None:
    response = f"Idea: keep the structure.\n```python\n{SEED}\n```\nThat is all."
    code = extract_one(response, "improve_algorithm")
    assert defines_function(code, "improve_algorithm")
    assert code.strip() == SEED.strip()


def test_largest_block_rule_would_fail_but_we_choose_the_valid_one() -> None:
    response = "```python\nprint('usage example that is rather long ........')\n```\n" + (
        "```python\ndef algorithm(x):\n    return x\n```"
    )
    assert extract_one(response, "algorithm") == "def algorithm(x):\n    return x"


def test_among_parsing_blocks_the_one_defining_the_entry_wins() -> None:
    response = (
        "```python\nimport itertools\nvalues = list(itertools.count(0, 1))[:0] if False else []\n"
        "```\nand\n```\ndef algorithm(a):\n    return a\n```\n"
    )
    assert "def algorithm" in extract_one(response, "algorithm")


def test_truncated_response_keeps_the_open_block() -> None:
    response = "Idea\n```python\ndef algorithm(a):\n    return a\n"
    assert extract_one(response, "algorithm").startswith("def algorithm")


def test_no_fence_returns_the_text() -> None:
    assert extract_one("def algorithm():\n    return 1", "algorithm") == (
        "def algorithm():\n    return 1"
    )


def test_list_and_non_string_inputs() -> None:
    assert extract_code(["```\nx = 1\n```", 5]) == ["x = 1", ""]
    assert extract_code(None) == ""


def test_candidate_blocks_are_unique_and_longest_first() -> None:
    blocks = candidate_blocks("```\na\n```\n```\nbb\n```")
    assert blocks == sorted(blocks, key=len, reverse=True)
    assert len(blocks) == len(set(blocks))
