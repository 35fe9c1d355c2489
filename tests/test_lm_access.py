"""How a model is reached, set once: `--base-url`/`--max-concurrency` and the `--config` keys
`base_url`, `max_concurrency` and `[prices]` on every command that takes `--model`, down to the
workers of a remote executor; and the price table behind a run's cost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openai_support import FakeServer
from selftaught.cli.app import app
from selftaught.cli.options import model_access
from selftaught.config import load_config
from selftaught.errors import ConfigError
from selftaught.lm.cache import CachedBackend
from selftaught.lm.factory import ModelAccess
from selftaught.lm.openai_backend import OpenAIBackend
from selftaught.lm.prices import FREE, PRICES, Price, price_of


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer()
    yield srv
    srv.close()


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.toml"
    path.write_text(text)
    return path


def test_config_file_sets_the_access_and_flags_override_it(tmp_path: Path) -> None:
    cfg = _toml(
        tmp_path,
        'lm_budget = 2\nbase_url = "http://127.0.0.1:9/v1"\nmax_concurrency = 3\n'
        '[prices]\n"gpt-x" = [1.0, 2.0]\n',
    )
    assert load_config(cfg).lm_budget == 2  # the run's options, without the access keys
    access = model_access(None, False, None, None, cfg)
    assert access.base_url == "http://127.0.0.1:9/v1" and access.max_concurrency == 3
    assert dict(access.prices) == {"gpt-x": Price(1.0, 2.0)}
    assert access.cache and access.record is None
    flags = model_access("http://other/v1", True, None, 7, cfg)
    assert flags.base_url == "http://other/v1" and flags.max_concurrency == 7 and not flags.cache
    quiet = _toml(tmp_path, f'cache = false\nrecord = "{tmp_path / "rec.jsonl"}"\n')
    off = model_access(None, False, None, None, quiet)
    assert not off.cache and off.record == tmp_path / "rec.jsonl"
    flag = tmp_path / "b.jsonl"
    assert model_access(None, False, flag, None, quiet).record == flag  # the flag wins


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_concurrency = 0\n", "max_concurrency must be an integer >= 1"),
        ('max_concurrency = "4"\n', "max_concurrency must be an integer >= 1"),
        ("base_url = 3\n", "base_url must be a string"),
        ('[prices]\n"m" = [1.0]\n', r"prices.m must be \[input, output\]"),
        ('[prices]\n"m" = [-1.0, 1.0]\n', "prices per million tokens must be numbers >= 0"),
        ('prices = "cheap"\n', "prices must be a table"),
        ('cache = "no"\n', "cache must be true or false"),
        ("record = 1\n", "record must be a file path"),
    ],
)
def test_bad_access_keys_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        model_access(None, False, None, None, _toml(tmp_path, text))


def test_max_concurrency_flag_rejects_zero() -> None:
    result = CliRunner().invoke(
        app, ["improve", "x.py", "--task", "maxcut", "--max-concurrency", "0"]
    )
    assert result.exit_code == 2 and "--max-concurrency" in result.output


def test_access_reaches_the_backend_and_its_cache_scope(server: FakeServer, tmp_path: Path) -> None:
    access = ModelAccess(base_url=server.url, max_concurrency=3)
    backend = access.open("openai:m", tmp_path / "c.sqlite")
    assert isinstance(backend, CachedBackend) and isinstance(backend.inner, OpenAIBackend)
    assert backend.inner.max_concurrency == 3
    assert backend.scope == f"openai:m@{server.url}"  # the URL keys the cache, as before


def test_workers_reach_the_server_the_driver_was_given(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session request carries the driver's --base-url and --max-concurrency to the worker,
    which has no OPENAI_BASE_URL of its own."""
    from selftaught.config import RunConfig
    from selftaught.core.jobs import SessionJob
    from selftaught.core.meta import load_improver
    from selftaught.execute.wire import session_request
    from selftaught.execute.worker import worker_backend
    from selftaught.tasks import get_task

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("SELFTAUGHT_CACHE_DIR", str(tmp_path))
    task = get_task("parity_noise")
    job = SessionJob.make(load_improver("seed"), task, task.seed_solution, 0)
    access = ModelAccess(base_url=server.url, max_concurrency=2)
    request = json.loads(
        session_request(RunConfig(model="openai:m"), job, "run-1", access.for_workers())
    )
    backend = worker_backend("openai:m", "run-1", request["access"])
    assert isinstance(backend, CachedBackend) and isinstance(backend.inner, OpenAIBackend)
    assert backend.inner.base_url == server.url and backend.inner.max_concurrency == 2
    from selftaught.lm.types import SampleRequest

    backend.generate([SampleRequest((("user", "hi"),), 1, 0.5)])
    assert len(server.requests) == 1


def test_improve_takes_the_server_from_the_config_file(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("SELFTAUGHT_CACHE_DIR", str(tmp_path / "cache"))
    server.n_mode = "ignore"
    program = tmp_path / "p.py"
    program.write_text("def algorithm(x):\n    return x\n")
    cfg = _toml(
        tmp_path,
        f'base_url = "{server.url}"\nmax_concurrency = 2\n[prices]\n"m" = [1000.0, 2000.0]\n',
    )
    args = ["improve", str(program), "--task", "maxcut", "--model", "openai:m"]
    args += ["--config", str(cfg), "--lm-budget", "1", "--responses", "3"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert sum(1 for r in server.requests if r["model"] == "m") == 3  # n=3 ignored, then 2 more
    # the run noted the config's price; its report costs the 3 requests' tokens at it
    from selftaught.report.model import collect

    [usage] = collect(tmp_path / "run").usage
    assert (usage.spec, usage.prompt_tokens, usage.completion_tokens) == ("openai:m", 15, 9)
    assert usage.dollars == pytest.approx((15 * 1000 + 9 * 2000) / 1e6)


def test_prices_local_models_are_free_and_hosted_ones_priced() -> None:
    assert price_of("embedded") == FREE
    assert price_of("replay:/x.jsonl") == FREE
    assert price_of("openai:qwen", "http://127.0.0.1:8080/v1") == FREE
    assert price_of("openai:qwen", "http://localhost:8080/v1") == FREE
    assert price_of("openai:gpt-4o-mini", None) == PRICES["gpt-4o-mini"]
    assert price_of("openai:unknown-model", "https://api.example.com/v1") is None
    mine = {"unknown-model": Price(1.0, 3.0)}
    assert price_of("openai:unknown-model", "https://api.example.com/v1", mine) == Price(1.0, 3.0)
    assert Price(2.0, 8.0).cost(1_000_000, 500_000) == pytest.approx(6.0)
