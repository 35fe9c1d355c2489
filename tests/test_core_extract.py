"""Code extraction: nested fences, several blocks, truncated responses."""

from __future__ import annotations

from importlib import resources

from selftaught.core.extract import (
    candidate_blocks,
    defines_function,
    extract_code,
    extract_one,
    salvage_cut_off,
)

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


CUT_OFF = (
    "```python\nimport math\n\n\ndef helper(x):\n    return math.sqrt(x)\n\n\n"
    "def algorithm(xs):\n    return [helper(x) for x in xs]\n\n\n"
    "if __name__ == '__main__':\n    print(algorithm([1, 4"
)


def test_a_reply_cut_off_mid_statement_keeps_its_complete_definitions() -> None:
    code = extract_one(CUT_OFF, "algorithm")
    assert code.endswith("return [helper(x) for x in xs]") and "__main__" not in code
    assert extract_one(CUT_OFF) == code  # without an entry: the longest head with a function


def test_a_cut_off_entry_function_is_not_salvaged_into_a_wrong_one() -> None:
    text = "```python\ndef algorithm(xs):\n    total = 0\n    for x in xs:\n        total += (x"
    # the only head that parses holds no function at all: nothing to salvage
    assert salvage_cut_off(text.split("\n", 1)[1], "algorithm") is None
    assert "def algorithm" in extract_one(text, "algorithm")


def test_the_sandbox_helpers_module_extracts_cut_off_replies_too() -> None:
    """`helpers` is this file and the improver kit in one namespace: no name may shadow another."""
    from selftaught.core.session import helpers_source

    namespace: dict[str, object] = {"__name__": "helpers"}
    exec(compile(helpers_source(), "helpers", "exec"), namespace)
    extract = namespace["extract_code"]
    assert extract(CUT_OFF, "algorithm") == extract_one(CUT_OFF, "algorithm")  # type: ignore[operator]
    assert extract([CUT_OFF]) == [extract_one(CUT_OFF)]  # type: ignore[operator]
