"""Parsing model spec strings: ``embedded``, ``gguf:PATH``, ``openai:MODEL``, ``replay:PATH``.

The kinds and their rules live in the backend table (`selftaught.lm.backends`).
"""

from __future__ import annotations

from selftaught.errors import ConfigError
from selftaught.lm.backends import BACKENDS, ModelSpec, valid_forms

__all__ = ["KINDS", "ModelSpec", "parse_spec", "valid_forms"]

KINDS = tuple(BACKENDS)


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model spec; raises ConfigError naming the valid forms when it is not one."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"empty model spec; valid forms: {valid_forms()}")
    spec = spec.strip()
    kind, sep, value = spec.partition(":")
    kind = kind.lower()
    entry = BACKENDS.get(kind)
    if entry is None:
        raise ConfigError(f"unknown model spec {spec!r}; valid forms: {valid_forms()}")
    value = value.strip()
    if entry.needs_value and (not sep or not value):
        raise ConfigError(
            f"model spec {spec!r} needs a value after '{kind}:'; valid forms: {valid_forms()}"
        )
    return ModelSpec(kind, entry.parse(value))
