"""Typed errors shared across selftaught. Every user-facing failure derives from SelftaughtError."""

from __future__ import annotations


class SelftaughtError(Exception):
    """Base class: the CLI prints these as one clear line instead of a traceback."""


class ConfigError(SelftaughtError):
    """Bad user input: an unknown model spec, task name, file or option value."""


class ConfigMismatch(ConfigError):
    """A run directory holds a run whose stored settings differ from the requested ones.

    `changes` names each differing option with both values.
    """

    def __init__(self, message: str, changes: str) -> None:
        super().__init__(message)
        self.changes = changes


class BudgetExhausted(SelftaughtError):
    """A trusted-side budget (LM calls or utility calls) has no uses left."""


class LMBudgetExhausted(BudgetExhausted):
    """The language model's call budget is spent."""


class ModelUnavailable(SelftaughtError):
    """A model cannot be loaded: missing weights, a corrupt part, or no server."""


class ReplayMiss(SelftaughtError):
    """A replayed model was asked for a prompt that the recording does not contain."""


class SandboxError(SelftaughtError):
    """The sandbox itself failed (not the untrusted program inside it)."""


class InvalidLMRequest(SelftaughtError):
    """A language-model request is malformed: bad messages, temperature, n or max_tokens."""


class PromptTooLong(InvalidLMRequest):
    """A prompt does not fit in the model's context window."""


class CorruptRecording(SelftaughtError):
    """A worker sent operations that are malformed or break the run's budgets."""


class DamagedStore(SelftaughtError):
    """A run database (`run.sqlite`) is truncated, corrupt or not a run database at all."""
