"""What a model's tokens cost: a small table in code, overridable in the `--config` TOML.

Prices are US dollars per million tokens, (input, output), as the vendors listed them when this
table was written; they are never fetched. A run stores the prices it used (`lm_prices` in the run
store's meta), so its report shows the cost it had. Local models (`embedded`, `gguf:`, `replay:`,
and `openai:` servers on a loopback address) cost 0. Override or extend the table with::

    [prices]
    "gpt-4o" = [2.5, 10.0]    # dollars per million input tokens, per million output tokens
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from selftaught.errors import ConfigError


@dataclass(frozen=True)
class Price:
    """US dollars per million input (prompt) and output (completion) tokens."""

    input_per_million: float
    output_per_million: float

    def __post_init__(self) -> None:
        if not (self.input_per_million >= 0 and self.output_per_million >= 0):
            raise ConfigError("prices per million tokens must be numbers >= 0")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Dollars for these tokens."""
        return (
            prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million
        ) / 1e6


FREE = Price(0.0, 0.0)

#: Hosted models' list prices (input, output per million tokens); `openai:NAME` looks up NAME.
PRICES: dict[str, Price] = {
    "gpt-4": Price(30.0, 60.0),  # the paper's model
    "gpt-3.5-turbo": Price(0.5, 1.5),
    "gpt-4o": Price(2.5, 10.0),
    "gpt-4o-mini": Price(0.15, 0.6),
    "gpt-4.1": Price(2.0, 8.0),
    "gpt-4.1-mini": Price(0.4, 1.6),
    "gpt-4.1-nano": Price(0.1, 0.4),
    "o3-mini": Price(1.1, 4.4),
    "o4-mini": Price(1.1, 4.4),
}


def price_of(
    spec: str, base_url: str | None = None, overrides: Mapping[str, Price] | None = None
) -> Price | None:
    """The price of `spec`'s tokens: an override first, 0 for a local model, else the table;
    None when nothing is known (a hosted model missing from the table)."""
    from selftaught.lm.spec import parse_spec

    parsed = parse_spec(spec)
    name = parsed.value if parsed.kind == "openai" else parsed.canonical
    if overrides and (name in overrides or parsed.canonical in overrides):
        return overrides.get(name) or overrides[parsed.canonical]
    if parsed.kind != "openai" or _is_loopback(base_url or os.environ.get("OPENAI_BASE_URL")):
        return FREE
    return PRICES.get(name)


def parse_prices(table: Any, where: str) -> dict[str, Price]:
    """The `[prices]` table of a config file: model -> [input, output] dollars per million
    tokens; ConfigError naming `where` for anything else."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: prices must be a table of model = [input, output]")
    out: dict[str, Price] = {}
    for model, pair in table.items():
        ok = isinstance(pair, list) and len(pair) == 2
        if not ok or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair):
            raise ConfigError(
                f"{where}: prices.{model} must be [input, output] dollars per million tokens"
            )
        name = model.removeprefix("openai:")
        out[name] = Price(float(pair[0]), float(pair[1]))
    return out


def _is_loopback(url: str | None) -> bool:
    host = urlparse(url).hostname if url else None
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: The run store's meta key holding the prices a run used: JSON spec -> [input, output] or null.
PRICES_META = "lm_prices"


def with_price(stored: str | None, spec: str, price: Price | None) -> str:
    """The `lm_prices` meta text with `spec`'s price set (other models' prices kept)."""
    table = json.loads(stored) if stored else {}
    table[spec] = None if price is None else [price.input_per_million, price.output_per_million]
    return json.dumps(table, sort_keys=True)


def stored_prices(stored: str | None) -> dict[str, Price | None]:
    """The prices a run stored (`with_price`), by canonical model spec."""
    table = json.loads(stored) if stored else {}
    return {
        spec: None if pair is None else Price(*map(float, pair)) for spec, pair in table.items()
    }
