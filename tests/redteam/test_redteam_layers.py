"""The red-team suite is meant to run with every isolation layer active."""

from __future__ import annotations

import pytest

from selftaught.sandbox import doctor

pytestmark = pytest.mark.redteam


def test_every_layer_is_active() -> None:
    missing = {layer.name: layer.detail for layer in doctor() if not layer.active}
    assert not missing, f"inactive sandbox layers (see `selftaught doctor`): {missing}"
