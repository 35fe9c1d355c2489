"""`check_model`: is a model spec usable, decided in seconds and before anything is written.

It parses the spec, looks for the files a local model needs (without loading them) and asks an
`openai:` server once, without retries, whether it answers. Commands call it first, so that a
mistyped spec or a server that is down costs neither a run directory nor minutes of waiting.
"""

from __future__ import annotations

from selftaught.lm.backends import BACKENDS
from selftaught.lm.spec import parse_spec

#: How long an `openai:` server may take to answer the probe.
PROBE_SECONDS = 3.0


def check_model(spec: str, *, base_url: str | None = None, timeout: float = PROBE_SECONDS) -> None:
    """Raise ConfigError or ModelUnavailable (one line, naming the fix) unless `spec` is usable."""
    parsed = parse_spec(spec)
    BACKENDS[parsed.kind].check(parsed, spec, base_url, timeout)
