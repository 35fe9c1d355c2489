"""Fixtures for the red-team suite (helpers live in redteam_support.py)."""

from __future__ import annotations

import pytest
from redteam_support import FRAMES_HELPER


@pytest.fixture(scope="session")
def frames_helper() -> str:
    """Source of the raw-frame forging helper, passed to forgery attacks as an argument."""
    return FRAMES_HELPER
