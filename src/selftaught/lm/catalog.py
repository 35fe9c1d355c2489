"""What models are available (for ``selftaught models``) and a one-shot ``ask`` helper."""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from selftaught.lm.assemble import model_status
from selftaught.lm.backends import BACKENDS
from selftaught.lm.factory import CacheArg, open_model
from selftaught.lm.paths import default_cache_path, model_dir
from selftaught.lm.registry import DEFAULT_EMBEDDED, MODELS
from selftaught.lm.types import DEFAULT_MAX_TOKENS, Sample, SampleRequest


@dataclass(frozen=True)
class ModelInfo:
    """One row of ``selftaught models``."""

    spec: str
    description: str
    size_bytes: int | None
    installed: bool
    status: str
    path: str | None
    default: bool = False

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def llama_cpp_installed() -> bool:
    """Whether llama-cpp-python can be imported (without importing it)."""
    return importlib.util.find_spec("llama_cpp") is not None


def list_models() -> list[ModelInfo]:
    """The embedded models with their install state, then the other spec forms."""
    runtime = llama_cpp_installed()
    rows = []
    for name, model in MODELS.items():
        st = model_status(model)
        if not runtime:
            status = "llama-cpp-python missing"
        elif st.assembled:
            status = "ready"
        elif st.parts_installed:
            status = "parts installed; assembled on first use"
        else:
            status = f"missing {len(st.missing_parts)} weight part(s)"
        installed = runtime and st.installed
        info = ModelInfo(model.spec, model.description, model.size, installed, status, str(st.path))
        rows.append(replace(info, default=name == DEFAULT_EMBEDDED))
    generic = [
        (entry.forms(), desc, runtime or not needs_runtime)
        for entry in BACKENDS.values()
        if entry.catalog is not None
        for desc, needs_runtime in [entry.catalog]
    ]
    for spec, desc, ok in generic:
        rows.append(
            ModelInfo(spec, desc, None, ok, "available" if ok else "llama-cpp-python missing", None)
        )
    return rows


def cache_locations() -> dict[str, str]:
    """Where responses and assembled models are stored."""
    return {"response_cache": str(default_cache_path()), "model_dir": str(model_dir())}


def ask(
    prompt: str,
    *,
    model: str = "embedded",
    system: str | None = None,
    temperature: float = 0.0,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    base_url: str | None = None,
    record: str | Path | None = None,
    cache: CacheArg = True,
    progress: bool | None = None,
) -> Sample:
    """One completion of ``prompt`` from ``model`` (sample index 0)."""
    backend = open_model(model, cache=cache, record=record, base_url=base_url, progress=progress)
    messages = ((("system", system),) if system else ()) + (("user", prompt),)
    [[sample]] = backend.generate([SampleRequest(messages, 1, temperature, max_tokens)])
    return sample
