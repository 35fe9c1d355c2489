"""Options shared by the commands that run improvers: model, server, cache, budgets, executor.

The help of every budget option shows its default (the `RunConfig` value it falls back to).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from selftaught.config import RunConfig
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


def model_access(base_url: str | None, no_cache: bool, record: Path | None) -> ModelAccess:
    """The `ModelAccess` of the --base-url, --no-cache and --record options."""
    return ModelAccess(base_url=base_url, cache=not no_cache, record=record)


def improver_help() -> str:
    """Help for --improver: the library's names, or a path."""
    from selftaught.improvers.catalog import IMPROVERS

    return f"An improver of the library ({', '.join(IMPROVERS)}) or a path to a .py file."
