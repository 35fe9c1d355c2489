"""Parsing model spec strings: ``embedded``, ``gguf:PATH``, ``openai:MODEL``, ``replay:PATH``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from selftaught.errors import ConfigError
from selftaught.lm.registry import DEFAULT_EMBEDDED, MODELS

KINDS = ("embedded", "gguf", "openai", "replay")


def valid_forms() -> str:
    """The accepted spec forms, for error messages and help text."""
    embedded = ", ".join(f"embedded:{name}" for name in MODELS)
    return f"embedded, {embedded}, gguf:PATH, openai:MODEL, replay:PATH"


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec. ``canonical`` is the stable form used in cache keys."""

    kind: str
    value: str

    @property
    def canonical(self) -> str:
        return f"{self.kind}:{self.value}"


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model spec; raises ConfigError naming the valid forms when it is not one."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"empty model spec; valid forms: {valid_forms()}")
    spec = spec.strip()
    kind, sep, value = spec.partition(":")
    kind = kind.lower()
    if kind not in KINDS:
        raise ConfigError(f"unknown model spec {spec!r}; valid forms: {valid_forms()}")
    value = value.strip()
    if kind == "embedded":
        name = value.lower() or DEFAULT_EMBEDDED
        if name not in MODELS:
            raise ConfigError(f"unknown embedded model {value!r}; valid forms: {valid_forms()}")
        return ModelSpec("embedded", name)
    if not sep or not value:
        raise ConfigError(
            f"model spec {spec!r} needs a value after '{kind}:'; valid forms: {valid_forms()}"
        )
    if kind in ("gguf", "replay"):
        # Absolute paths keep the cache key stable whatever the working directory.
        return ModelSpec(kind, str(Path(value).expanduser().resolve()))
    return ModelSpec(kind, value)
