"""Where the response cache and the assembled model files live (XDG cache directory)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SELFTAUGHT_CACHE_DIR"
MODEL_ENV = "SELFTAUGHT_MODEL_DIR"
CACHE_FILENAME = "responses.sqlite3"


def cache_dir() -> Path:
    """The cache root: ``$SELFTAUGHT_CACHE_DIR``, else ``$XDG_CACHE_HOME/selftaught``, else
    ``~/.cache/selftaught``."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "selftaught"


def default_cache_path() -> Path:
    """The default SQLite response-cache file."""
    return cache_dir() / CACHE_FILENAME


def model_dir() -> Path:
    """Where assembled GGUF files go: ``$SELFTAUGHT_MODEL_DIR`` or ``<cache_dir>/models``."""
    override = os.environ.get(MODEL_ENV)
    if override:
        return Path(override).expanduser()
    return cache_dir() / "models"
