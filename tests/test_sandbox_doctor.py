"""`selftaught doctor [--json]` reports every layer, confirmed by a probe inside the sandbox."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.sandbox.launcher import LAYER_NAMES


def test_doctor_json_lists_every_layer() -> None:
    done = CliRunner().invoke(app, ["doctor", "--json"])
    assert done.exit_code == 0, done.output
    layers = json.loads(done.output)
    assert [layer["name"] for layer in layers] == [*LAYER_NAMES, "zygote"]
    assert all(isinstance(layer["active"], bool) and layer["detail"] for layer in layers)
    assert layers[-1]["active"], layers[-1]  # the probe ran inside the sandbox


def test_doctor_table() -> None:
    done = CliRunner().invoke(app, ["doctor"])
    assert done.exit_code == 0, done.output
    for name in LAYER_NAMES:
        assert name in done.output
