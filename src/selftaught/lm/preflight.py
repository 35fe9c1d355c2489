"""`check_model`: is a model spec usable, decided before anything is written.

It parses the spec, looks for the files a local model needs (without loading them) and asks an
`openai:` server once, without retries, whether it answers. Commands call it first, so that a
mistyped spec or a server that is down costs neither a run directory nor minutes of waiting.
"""

from __future__ import annotations

from selftaught.lm.backends import BACKENDS
from selftaught.lm.spec import parse_spec

#: How long an `openai:` server may take to answer the probe. A server that is down refuses the
#: connection at once; one that answers one request at a time (llama_cpp.server) first finishes
#: the request in hand, even one whose client has gone: on a slow 2-core VM that took over 20 s.
PROBE_SECONDS = 60.0


def check_model(spec: str, *, base_url: str | None = None, timeout: float = PROBE_SECONDS) -> None:
    """Raise ConfigError or ModelUnavailable (one line, naming the fix) unless `spec` is usable."""
    parsed = parse_spec(spec)
    BACKENDS[parsed.kind].check(parsed, spec, base_url, timeout)
