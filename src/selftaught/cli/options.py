"""Options shared by the commands that run improvers: model, server, cache, budgets, executor.

The help of every budget option shows its default (the `RunConfig` value it falls back to).
How the model is reached (`--base-url`, `--max-concurrency`, `--no-cache`, `--record`, and the
`[prices]` table) may also come from the `--config` TOML (keys `base_url`, `max_concurrency`,
`cache`, `record`, `prices`); flags override it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from selftaught.config import ACCESS_KEYS, RunConfig, read_config_file
from selftaught.errors import ConfigError
from selftaught.lm.factory import ModelAccess

_DEFAULTS = RunConfig()


def _default(value: object) -> str:
    return str(value)


ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="Model spec.", show_default=_default(_DEFAULTS.model)),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="Server of an openai: model (default: OPENAI_BASE_URL, else api.openai.com).",
    ),
]
MaxConcurrencyOpt = Annotated[
    int | None,
    typer.Option(
        "--max-concurrency",
        min=1,
        help="Requests in flight at once to an openai: server that ignores or limits n "
        "(default: SELFTAUGHT_MAX_CONCURRENCY, else 4; 1 is one request after another).",
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option("--no-cache", help="Draw every LM sample afresh (no response cache)."),
]
RecordOpt = Annotated[
    Path | None,
    typer.Option(
        "--record",
        help="Append every LM exchange to this JSONL file (replay it with --model replay:FILE).",
    ),
]
ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="Where sessions and evaluations run: local or ray (RAY_ADDRESS, else a local Ray "
        "instance). Results are the same.",
        show_default=_DEFAULTS.executor,
    ),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="TOML file of run options; flags override it.")
]
LmBudgetOpt = Annotated[
    int | None,
    typer.Option(
        "--lm-budget", help="LM calls per improver run.", show_default=_default(_DEFAULTS.lm_budget)
    ),
]
ResponsesOpt = Annotated[
    int | None,
    typer.Option(
        "--responses",
        help="Responses per LM call (max_responses_per_call).",
        show_default=_default(_DEFAULTS.max_responses_per_call),
    ),
]
MaxTokensOpt = Annotated[
    int | None,
    typer.Option(
        "--max-tokens", help="Tokens per response.", show_default=_default(_DEFAULTS.max_tokens)
    ),
]
UtilityBudgetOpt = Annotated[
    int | None,
    typer.Option(
        "--utility-budget",
        help="Utility calls per improver run; 0: the task's own budget.",
        show_default=_default(_DEFAULTS.utility_budget),
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option("--seed", help="Sampling seed.", show_default=_default(_DEFAULTS.seed)),
]


def model_access(
    base_url: str | None,
    no_cache: bool,
    record: Path | None,
    max_concurrency: int | None = None,
    config_file: Path | None = None,
) -> ModelAccess:
    """The `ModelAccess` of the --base-url, --no-cache, --record and --max-concurrency options,
    over the `base_url`, `max_concurrency`, `cache`, `record` and `[prices]` of the --config
    file."""
    from selftaught.lm.prices import parse_prices

    saved = _access_keys(config_file) if config_file is not None else {}
    concurrency = max_concurrency if max_concurrency is not None else saved.get("max_concurrency")
    if concurrency is not None and (
        isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
    ):
        raise ConfigError(f"{config_file}: max_concurrency must be an integer >= 1")
    url = base_url if base_url is not None else saved.get("base_url")
    if url is not None and not isinstance(url, str):
        raise ConfigError(f"{config_file}: base_url must be a string")
    cache = saved.get("cache", True)
    if not isinstance(cache, bool):
        raise ConfigError(f"{config_file}: cache must be true or false")
    recording = saved.get("record")
    if recording is not None and not isinstance(recording, str):
        raise ConfigError(f"{config_file}: record must be a file path")
    if record is None and recording:
        record = Path(recording).expanduser()
    prices = parse_prices(saved.get("prices", {}), str(config_file))
    return ModelAccess(
        base_url=url or None,
        cache=cache and not no_cache,
        record=record,
        max_concurrency=concurrency,
        prices=tuple(sorted(prices.items())),
    )


def _access_keys(path: Path) -> dict[str, Any]:
    """The model-access keys of a config file (`load_config` reads the rest and checks it)."""
    data = read_config_file(path)
    return {k: data[k] for k in ACCESS_KEYS if k in data}


def improver_help() -> str:
    """Help for --improver: the library's names, or a path."""
    from selftaught.improvers.catalog import IMPROVERS

    return f"An improver of the library ({', '.join(IMPROVERS)}) or a path to a .py file."
