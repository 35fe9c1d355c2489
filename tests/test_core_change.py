"""What an adopted improver changed, in plain words, from the two programs' syntax trees."""

from __future__ import annotations

from pathlib import Path

from selftaught.core.change import behaviour_changes, program_changes
from selftaught.improvers.catalog import get_improver
from selftaught.search.summary import adopted_changes
from selftaught.store.db import IterationRecord, RunStore

SEED = get_improver("seed").source()
ENTRY = "improve_algorithm"
# What the embedded 1.5B model wrote in a make run (meta_continue): the new step discards the
# model's candidates and returns the input behind a dead helper.
RETURNS_THE_INPUT = SEED.replace(
    "    return best_solution\n",
    '    improved_solution = f"""\ndef helper(lst):\n    return lst\n\n{initial_solution}\n"""\n'
    "    return improved_solution\n",
)


# What the embedded 1.5B model wrote when its continued reply opened the "keep the input" step.
KEEPS_THE_INPUT = SEED.replace(
    "    return best_solution\n",
    "    # New step: keep the input: if the initial solution scores higher than the best"
    " candidate, return the initial solution instead.\n"
    "    if utility(initial_solution) > utility(best_solution):\n"
    "        return initial_solution\n\n\n    return best_solution\n",
)


def test_keeping_the_input_is_named_and_is_not_returning_only_the_input() -> None:
    from selftaught.core.change import returns_its_input

    changes = behaviour_changes(SEED, KEEPS_THE_INPUT, ENTRY)
    assert changes[0] == "keeps its input: may return `initial_solution` instead of what it built"
    assert not returns_its_input(KEEPS_THE_INPUT, ENTRY)  # it still returns the best candidate
    # returning nothing but the input is not "keeping" it
    assert not behaviour_changes(SEED, RETURNS_THE_INPUT, ENTRY)[0].startswith("keeps")
    # nor is an improver that already kept it
    assert not behaviour_changes(KEEPS_THE_INPUT, KEEPS_THE_INPUT + "\n# x\n", ENTRY)


def test_picking_between_programs_by_their_text_is_named() -> None:
    # What the embedded 1.5B model wrote under "keep the input: return whichever of
    # initial_solution and the best candidate scores higher" in a make run: strings compared
    text_pick = SEED.replace(
        "    return best_solution\n", "    return max(initial_solution, best_solution)\n"
    )
    changes = behaviour_changes(SEED, text_pick, ENTRY)
    pick = "picks by text, not by score: `max(initial_solution, best_solution)` has no `key=`"
    assert pick in changes
    # a pick by score, or a max that does not involve the input, is not one
    by_score = text_pick.replace("best_solution)\n", "best_solution, key=utility)\n")
    assert not [c for c in behaviour_changes(SEED, by_score, ENTRY) if c.startswith("picks")]
    other = SEED.replace("    return best_solution\n", '    return max(best_solution, "")\n')
    assert not [c for c in behaviour_changes(SEED, other, ENTRY) if c.startswith("picks")]
    # one the parent already made is no change
    assert not [c for c in behaviour_changes(text_pick, text_pick + "\n", ENTRY) if "picks" in c]


def test_asking_the_model_again_is_named_with_its_temperatures() -> None:
    # what the embedded 1.5B model wrote (make run, seed 0, t=2) after the step that keeps the input
    second = SEED.replace(
        "    return best_solution\n",
        "    improved = language_model.batch_prompt(expertise, [message] * n_messages,"
        " temperature=0.5)\n    improved = extract_code(improved)\n"
        "    best_solution = max(improved, key=utility)\n\n    return best_solution\n",
    )
    changes = behaviour_changes(SEED, second, ENTRY)
    assert "asks the model in 2 place(s) (was 1), at temperature 0.7 then 0.5" in changes
    assert not any(c.startswith("asks") for c in behaviour_changes(SEED, KEEPS_THE_INPUT, ENTRY))


def test_a_new_return_says_what_the_value_is_built_from() -> None:
    changes = behaviour_changes(SEED, RETURNS_THE_INPUT, ENTRY)
    assert changes[0] == (
        "returns `improved_solution` built from initial_solution "
        "(was `best_solution` built from new_solutions, utility)"
    )
    assert "uses `initial_solution` in 2 place(s) (was 1)" in changes


def test_settings_prompt_sentences_and_new_functions_are_named() -> None:
    new = SEED.replace("temperature=0.7", "temperature=0.9").replace(
        "Write an improved version of the solution.",
        "Write an improved version of the solution. Use only numpy.",
    )
    new += "\n\ndef unused():\n    return 1\n"
    assert behaviour_changes(SEED, new, ENTRY) == [
        "temperature 0.7 -> 0.9",
        'prompt text adds "Use only numpy."',
        "defines `unused`",
    ]


def test_layout_alone_and_unparsable_programs_give_no_phrase() -> None:
    assert behaviour_changes(SEED, SEED.replace("\n\n\n", "\n\n"), ENTRY) == []
    assert behaviour_changes(SEED, "def improve_algorithm(:", ENTRY) == []
    assert behaviour_changes(SEED, "def other():\n    return 1\n", ENTRY) == []


def test_the_summary_says_what_the_adopted_improver_changed(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    try:
        seed = store.add_program(SEED, "improver")
        store.add_iteration(IterationRecord(0, seed, 0.0, 0.0, True, None, None, None))
        assert adopted_changes(store) is None  # nothing adopted yet
        new = store.add_program(RETURNS_THE_INPUT, "improver", parent=seed)
        store.add_iteration(IterationRecord(1, new, 0.47, 0.497, True, new, 0.47, 0.497))
        changed = adopted_changes(store)
    finally:
        store.close()
    assert changed is not None and changed["from_sha256"] == seed and changed["to_sha256"] == new
    assert changed["changes"][0].startswith("returns `improved_solution` built from initial")
    assert changed["returns_its_input"] == "code"  # its code returns nothing else


def test_an_improver_that_returns_its_input_is_recognised() -> None:
    from selftaught.core.change import returns_its_input

    assert returns_its_input(RETURNS_THE_INPUT, ENTRY)  # the input wrapped in text
    plain = SEED.replace("    return best_solution\n", "    return initial_solution\n")
    assert returns_its_input(plain, ENTRY)
    assert not returns_its_input(SEED, ENTRY)  # returns the model's best candidate
    for name in ("beam", "self_debug", "refine"):  # keep the input among the candidates
        assert not returns_its_input(get_improver(name).source(), ENTRY)
    loop = "def improve_algorithm(s, u, m):\n    a = b\n    b = a\n    return a\n"
    assert not returns_its_input(loop, ENTRY)


def test_a_hostile_deeply_nested_program_gets_no_phrase_instead_of_a_crash() -> None:
    from selftaught.core.change import returns_its_input

    deep = "def improve_algorithm(a, b, c):\n    return " + "-" * 200_000 + "a\n"
    assert behaviour_changes(SEED, deep, ENTRY) == []
    assert behaviour_changes(deep, SEED, ENTRY) == []
    assert returns_its_input(deep, ENTRY) is False


def test_an_improved_programs_changes_are_phrases_or_else_its_changed_lines() -> None:
    old = "def algorithm(n):\n    steps = 10\n    for _ in range(1000):\n        n += 1\n"
    old += "    return n\n"
    tuned = old.replace("steps = 10", "steps = 20")
    assert program_changes(old, tuned, "algorithm") == ["steps 10 -> 20"]
    longer = old.replace("range(1000)", "range(2000)")
    assert program_changes(old, longer, "algorithm") == [
        "`for _ in range(1000):` -> `for _ in range(2000):`"
    ]
    many = "\n".join(f"x{i} = {i}\ny{i} = 0" for i in range(6))  # six separate places
    other = many.replace("= 0", "= 1")
    assert program_changes(many, other, "algorithm", limit=2)[-1] == "and 4 more changed place(s)"
    assert program_changes(old, old, "algorithm") == []


def test_an_improver_seen_handing_back_its_input_in_every_run_is_flagged(tmp_path: Path) -> None:
    """Comments pasted onto the input escape the code check, not the runs' results."""
    from selftaught.search.summary import hands_back_its_input
    from selftaught.store.db import SessionRecord
    from selftaught.store.layout import SessionKey

    start = "def algorithm(x):\n    return x\n"
    store = RunStore(tmp_path)
    try:
        start_sha = store.add_program(start, "solution")
        commented = store.add_program(start + "    # more techniques\n", "solution")
        other = store.add_program("def algorithm(x):\n    return -x\n", "solution")

        def runs(improver: str, results: list[str]) -> None:
            for r, result in enumerate(results):
                key = str(SessionKey.make("meta", improver, "maxcut", start_sha, r))
                store.add_session(SessionRecord(key, improver, "maxcut", result, 0.5, 0.5, "ok",
                                                None, 1, 1))  # fmt: skip

        runs("a" * 64, [commented, commented])
        runs("b" * 64, [commented, other])
        assert hands_back_its_input(store, "a" * 64) is True
        assert hands_back_its_input(store, "b" * 64) is False  # one run returned something new
        assert hands_back_its_input(store, "c" * 64) is False  # no runs: nothing seen
    finally:
        store.close()
