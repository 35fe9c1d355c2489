"""Model spec parsing, request validation and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from selftaught.errors import ConfigError, InvalidLMRequest
from selftaught.lm import SampleRequest, open_model, parse_spec
from selftaught.lm.types import describe_messages, normalize_messages


@pytest.mark.parametrize(
    ("spec", "kind", "value"),
    [
        ("embedded", "embedded", "qwen2.5-coder-1.5b"),
        ("embedded:", "embedded", "qwen2.5-coder-1.5b"),
        ("embedded:qwen2.5-coder-1.5b", "embedded", "qwen2.5-coder-1.5b"),
        ("EMBEDDED:Qwen2.5-Coder-0.5B", "embedded", "qwen2.5-coder-0.5b"),
        ("openai:gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("openai:org/model:tag", "openai", "org/model:tag"),
        ("  gguf:/models/x.gguf  ", "gguf", "/models/x.gguf"),
    ],
)
def test_valid_specs(spec: str, kind: str, value: str) -> None:
    parsed = parse_spec(spec)
    assert (parsed.kind, parsed.value) == (kind, value)


def test_relative_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_spec("replay:rec.jsonl").value == str(tmp_path / "rec.jsonl")
    assert parse_spec("gguf:m.gguf").canonical == f"gguf:{tmp_path / 'm.gguf'}"


@pytest.mark.parametrize(
    "spec", ["", "gpt4", "llama:x", "embedded:qwen-9b", "openai:", "gguf:", "replay:"]
)
def test_invalid_specs_name_the_valid_forms(spec: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec(spec)
    message = str(info.value)
    for form in ("embedded:qwen2.5-coder-0.5b", "gguf:PATH", "openai:MODEL", "replay:PATH"):
        assert form in message
    assert "\n" not in message


def test_open_model_rejects_unknown_spec_and_missing_gguf(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="valid forms"):
        open_model("nonsense")
    with pytest.raises(ConfigError, match="does not exist"):
        open_model(f"gguf:{tmp_path / 'missing.gguf'}", cache=False)


def test_sample_request_normalises_and_validates() -> None:
    req = SampleRequest([["user", "hi"]], 2, 0.7, first_index=3)  # type: ignore[arg-type]
    assert req.messages == (("user", "hi"),)
    assert list(req.indices) == [3, 4]
    assert hash(req)  # usable as a dict key
    with pytest.raises(InvalidLMRequest, match="temperature"):
        SampleRequest((("user", "x"),), 1, -0.1)
    with pytest.raises(InvalidLMRequest, match="temperature"):
        SampleRequest((("user", "x"),), 1, float("nan"))
    with pytest.raises(InvalidLMRequest, match="max_tokens"):
        SampleRequest((("user", "x"),), 1, 0.7, max_tokens=0)
    with pytest.raises(InvalidLMRequest, match="n must be"):
        SampleRequest((("user", "x"),), -1, 0.7)


@pytest.mark.parametrize(
    ("messages", "pattern"),
    [
        ("hello", "sequence"),
        ([], "must not be empty"),
        ([("robot", "x")], "role must be one of"),
        ([("user", 5)], "content must be a string"),
        ([("user",)], "pair"),
    ],
)
def test_bad_messages(messages: object, pattern: str) -> None:
    with pytest.raises(InvalidLMRequest, match=pattern):
        normalize_messages(messages)


def test_dict_messages_are_accepted() -> None:
    assert normalize_messages([{"role": "user", "content": "x"}]) == (("user", "x"),)


def test_describe_messages_is_short_and_single_line() -> None:
    text = describe_messages((("system", "s"), ("user", "line one\nline two " + "x" * 500)))
    assert "\n" not in text and len(text) < 200
    assert "line one line two" in text


def test_local_model_options_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from selftaught.lm.llama_backend import options_from_env

    monkeypatch.setenv("SELFTAUGHT_N_THREADS", "1")
    monkeypatch.setenv("SELFTAUGHT_N_CTX", "4096")
    assert options_from_env() == {"n_threads": 1, "n_ctx": 4096}
    monkeypatch.setenv("SELFTAUGHT_N_SEQ_MAX", "zero")
    with pytest.raises(ConfigError, match="SELFTAUGHT_N_SEQ_MAX must be a positive integer"):
        options_from_env()
