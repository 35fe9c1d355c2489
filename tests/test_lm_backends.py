"""A model backend is one `BackendKind` entry: parsing, opening, the pre-run check, the catalog and
the decoding default all read the table (`selftaught.lm.backends`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loop_support import ScriptedBackend
from selftaught.config import CODE_PREFIX, RunConfig
from selftaught.errors import ConfigError
from selftaught.lm import open_model, parse_spec, valid_forms
from selftaught.lm.backends import BACKENDS, BackendKind, ModelSpec, OpenOptions, backend_kind
from selftaught.lm.catalog import list_models
from selftaught.lm.preflight import check_model


def _open(parsed: ModelSpec, options: OpenOptions) -> ScriptedBackend:
    return ScriptedBackend(f"# {parsed.value}")


def _check(parsed: ModelSpec, spec: str, base_url: str | None, timeout: float) -> None:
    if parsed.value == "down":
        raise ConfigError(f"{spec}: the echo server is down")


ECHO = BackendKind(
    "echo",
    lambda: "echo:NAME",
    str.lower,
    _open,  # type: ignore[arg-type]
    _check,
    continues_prefix=False,
    catalog=("answers from the echo server", False),
)


@pytest.fixture
def echo(monkeypatch: pytest.MonkeyPatch) -> BackendKind:
    monkeypatch.setitem(BACKENDS, "echo", ECHO)
    return ECHO


def test_one_entry_makes_a_backend_usable_everywhere(echo: BackendKind, tmp_path: Path) -> None:
    assert parse_spec("echo:Loud") == ModelSpec("echo", "loud")
    assert valid_forms().endswith("replay:PATH, echo:NAME")
    backend = open_model("echo:x", cache=tmp_path / "cache.sqlite")
    assert backend.spec == "scripted"  # the response cache wraps what the entry opened
    check_model("echo:up")
    with pytest.raises(ConfigError, match="down"):
        check_model("echo:down")
    assert ("echo:NAME", "answers from the echo server") in {
        (m.spec, m.description) for m in list_models()
    }
    assert RunConfig(model="echo:x").reply_prefix == ""  # it cannot continue a reply
    assert RunConfig(model="embedded").reply_prefix == CODE_PREFIX


def test_the_table_answers_what_callers_used_to_test_by_name() -> None:
    openai, replay = backend_kind("openai:gpt-4o"), backend_kind("replay:/r.jsonl")
    assert openai is not None and openai.billed and not openai.continues_prefix
    assert replay is not None and not replay.cached
    assert backend_kind("nonsense:x") is None
    assert [kind for kind, entry in BACKENDS.items() if entry.shared] == ["embedded", "gguf"]
