"""Faking the result: forged frames and score lines, NaN/inf, huge and deeply nested JSON,
huge integers, pickle payloads, monkeypatched clocks and encoders, tampered inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from redteam_support import QUICK, run_attack

from selftaught.sandbox import Limits

pytestmark = pytest.mark.redteam


def test_forged_frame_then_hang_is_a_timeout(frames_helper: str) -> None:
    result = run_attack("forged_frame_then_hang", frames_helper)
    assert result.status == "timeout"
    assert result.value is None


def test_forged_stdout_and_score_lines_are_ignored() -> None:
    result = run_attack("forged_stdout")
    assert result.status == "ok"
    assert result.value == "honest"


def test_forged_huge_length_is_rejected_at_once(frames_helper: str) -> None:
    result = run_attack("forged_huge_length", frames_helper, within=QUICK)
    assert result.status == "invalid_output"


@pytest.mark.parametrize("kind", ["nan", "inf", "ninf"])
def test_non_finite_floats_are_invalid(kind: str) -> None:
    assert run_attack("nan_inf", kind).status == "invalid_output"


@pytest.mark.parametrize(
    "body",
    [
        '{"ok":true,"value":NaN}',
        '{"ok":true,"value":[Infinity]}',
        '{"ok":true,"value":-Infinity}',
        '{"ok":true,"value":1' + "0" * 20_000 + "}",
        '{"ok":true,"value":' + "[" * 5000 + "]" * 5000 + "}",
        '{"ok":true,"value":' + '{"a":' * 200 + "1" + "}" * 200 + "}",
        '{"ok":"yes","value":1}',
        "[1, 2, 3]",
        "not json at all",
    ],
    ids=[
        "nan",
        "inf",
        "ninf",
        "huge-int",
        "deep-list",
        "deep-dict",
        "bad-ok",
        "not-object",
        "text",
    ],
)
def test_forged_bad_json_frames_are_invalid(frames_helper: str, body: str) -> None:
    result = run_attack("forged_nan_frame", frames_helper, body, within=QUICK)
    assert result.status == "invalid_output", result


def test_huge_output_is_invalid() -> None:
    result = run_attack("huge_output", limits=Limits(wall_seconds=10), within=QUICK + 3)
    assert result.status == "invalid_output"


def test_deep_nesting_is_invalid() -> None:
    result = run_attack("deep_nesting", limits=Limits(wall_seconds=10))
    assert result.status == "invalid_output"


def test_pickle_payload_is_never_unpickled(frames_helper: str, tmp_path: Path) -> None:
    marker = tmp_path / "pickle-ran"
    result = run_attack("pickle_payload", frames_helper, str(marker), within=QUICK)
    assert result.status == "invalid_output"
    assert not marker.exists()


def test_returning_a_reducible_object_is_invalid() -> None:
    result = run_attack("return_pickle_object")
    assert result.status == "invalid_output"
    assert not os.path.exists("/tmp/pwned-by-return")


def test_monkeypatched_clocks_do_not_stop_the_deadline() -> None:
    result = run_attack("monkeypatch_time")
    assert result.status == "timeout"
    assert result.seconds >= 1.0


def test_monkeypatched_encoder_cannot_forge_the_value() -> None:
    result = run_attack("monkeypatch_encoder")
    assert result.status == "ok"
    assert result.value == "honest"


def test_inputs_are_copies() -> None:
    matrix = [[1, 2], [3, 4]]
    result = run_attack("tamper_inputs", matrix)
    assert result.status == "ok"
    assert result.value[0][0] == 999
    assert matrix == [[1, 2], [3, 4]]
