"""LazyBackend: the driver of a remote run opens its model only if it samples at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from selftaught.config import RunConfig
from selftaught.lm import BudgetedLanguageModel, open_model
from selftaught.lm.lazy import LazyBackend
from selftaught.search.plumbing import open_backend

FIXTURE = Path(__file__).parent / "fixtures" / "recordings" / "lm_qwen05b.jsonl"
EXPERT = "You are an expert Python programmer. Answer with code only."


def test_opens_on_first_generate_with_the_eager_spec() -> None:
    opened: list[str] = []

    def open_replay():  # type: ignore[no-untyped-def]
        opened.append("yes")
        return open_model(f"replay:{FIXTURE}")

    lazy = LazyBackend(f"replay:{FIXTURE}", open_replay)
    assert not lazy.opened and lazy.usage.samples == 0 and not opened
    assert lazy.spec == open_model(f"replay:{FIXTURE}").spec
    lm = BudgetedLanguageModel(lazy, budget=1, max_tokens=96)
    answers = lm.prompt(EXPERT, "Write a Python function add(a, b) that returns a + b.", 2, 0.7)
    assert lazy.opened and opened == ["yes"]  # once
    assert len(answers) == 2 and all("def add" in a for a in answers)  # the recorded answers
    assert lazy.usage.samples == 2


def test_a_backend_with_another_spec_is_refused() -> None:
    lazy = LazyBackend("openai:some-model", lambda: open_model(f"replay:{FIXTURE}"))
    lm = BudgetedLanguageModel(lazy, budget=1, max_tokens=96)
    with pytest.raises(AssertionError, match="for spec 'openai:some-model'"):
        lm.prompt(EXPERT, "Write a Python function add(a, b) that returns a + b.", 1, 0.7)


def test_a_remote_run_does_not_load_the_embedded_model_up_front(tmp_path: Path) -> None:
    backend = open_backend(RunConfig(executor="ray", model="embedded"), tmp_path)
    assert isinstance(backend, LazyBackend) and not backend.opened
    assert backend.spec.startswith("embedded")
    local = open_backend(RunConfig(model=f"replay:{FIXTURE}"), tmp_path)
    assert not isinstance(local, LazyBackend)
