"""The language-model layer: one interface for every backend, with caching, recording and budgets.

Typical use::

    from selftaught.lm import open_model, BudgetedLanguageModel
    backend = open_model("embedded:qwen2.5-coder-0.5b")
    lm = BudgetedLanguageModel(backend, budget=4)
    [answer] = lm.prompt("You are an expert Python programmer.", "Write add(a, b).")
"""

from selftaught.errors import InvalidLMRequest, LMBudgetExhausted, ModelUnavailable, ReplayMiss
from selftaught.lm.budget import BudgetedLanguageModel
from selftaught.lm.cache import CachedBackend, ResponseCache
from selftaught.lm.factory import ModelAccess, open_model
from selftaught.lm.paths import cache_dir, default_cache_path, model_dir
from selftaught.lm.registry import DEFAULT_EMBEDDED, MODELS, EmbeddedModel
from selftaught.lm.replay import RecordingBackend, ReplayBackend
from selftaught.lm.spec import ModelSpec, parse_spec, valid_forms
from selftaught.lm.types import (
    DEFAULT_MAX_TOKENS,
    Backend,
    Message,
    Messages,
    Sample,
    SampleRequest,
    Usage,
    sample_key,
)

__all__ = [
    "DEFAULT_EMBEDDED",
    "DEFAULT_MAX_TOKENS",
    "MODELS",
    "Backend",
    "BudgetedLanguageModel",
    "CachedBackend",
    "EmbeddedModel",
    "InvalidLMRequest",
    "LMBudgetExhausted",
    "Message",
    "Messages",
    "ModelAccess",
    "ModelSpec",
    "ModelUnavailable",
    "RecordingBackend",
    "ReplayBackend",
    "ReplayMiss",
    "ResponseCache",
    "Sample",
    "SampleRequest",
    "Usage",
    "cache_dir",
    "default_cache_path",
    "model_dir",
    "open_model",
    "parse_spec",
    "sample_key",
    "valid_forms",
]
