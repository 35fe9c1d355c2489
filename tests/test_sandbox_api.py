"""The sandbox's contract: statuses, values, errors, seeding, ordering, sessions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from selftaught.errors import SandboxError
from selftaught.sandbox import CallResult, Limits, run_function, run_function_many
from selftaught.sandbox.session import SandboxSession, SessionEnded

FAST = Limits(wall_seconds=5)


def test_returns_json_value() -> None:
    result = run_function("def f(a, b):\n    return {'sum': a + b, 't': (1, 2)}", "f", [2, 3], FAST)
    expected = CallResult("ok", {"sum": 5, "t": [1, 2]}, None, result.seconds, result.cpu_seconds)
    assert result == expected
    assert 0 < result.seconds < 5 and 0 < result.cpu_seconds < 5


def test_numpy_is_importable() -> None:
    source = "import numpy as np\ndef f(xs):\n    return float(np.mean(np.array(xs)))"
    assert run_function(source, "f", [[1, 2, 3, 6]], FAST).value == 3.0


def test_exception_gives_readable_error() -> None:
    source = "def helper(x):\n    return 1 / x\n\ndef f():\n    return helper(0)\n"
    result = run_function(source, "f", [], FAST)
    assert result.status == "error"
    assert "ZeroDivisionError" in result.error
    assert "return 1 / x" in result.error  # the candidate's own source line is shown


def test_syntax_error_and_missing_function() -> None:
    syntax = run_function("def f(:\n    pass", "f", [], FAST)
    assert syntax.status == "error" and "SyntaxError" in syntax.error
    missing = run_function("def g():\n    return 1", "f", [], FAST)
    assert missing.status == "error" and "'f'" in missing.error


def test_unserialisable_return_is_invalid_output() -> None:
    result = run_function("def f():\n    return object()", "f", [], FAST)
    assert result.status == "invalid_output"
    nan = run_function("def f():\n    return float('nan')", "f", [], FAST)
    assert nan.status == "invalid_output"


def test_numpy_values_come_back_as_plain_json() -> None:
    source = (
        "import numpy as np\n"
        "def f():\n"
        "    return {'labels': np.array([0, 1, 1], dtype=np.int64), 'best': np.int64(7),\n"
        "            'mean': np.float32(0.5), 'ok': np.bool_(True),\n"
        "            'grid': np.arange(4.0).reshape(2, 2), 'items': [np.int32(3)]}"
    )
    result = run_function(source, "f", [], FAST)
    assert result.status == "ok", result.error
    assert result.value == {
        "labels": [0, 1, 1], "best": 7, "mean": 0.5, "ok": True,
        "grid": [[0.0, 1.0], [2.0, 3.0]], "items": [3],
    }  # fmt: skip


def test_numpy_nan_and_foreign_objects_stay_invalid() -> None:
    for value in ("np.float32('nan')", "np.array([1.0, np.inf])", "np.array([object()])"):
        source = f"import numpy as np\ndef f():\n    return {value}"
        result = run_function(source, "f", [], FAST)
        assert result.status == "invalid_output", (value, result)
        assert "not plain JSON data" in result.error


def test_a_numpy_subclass_cannot_choose_its_own_conversion() -> None:
    source = (
        "import numpy as np\n"
        "class Sly(np.ndarray):\n"
        "    def tolist(self):\n"
        "        return object()\n"
        "def f():\n"
        "    return np.array([1, 2]).view(Sly)"
    )
    result = run_function(source, "f", [], FAST)
    assert result.status == "ok" and result.value == [1, 2]


def test_timeout_returns_promptly() -> None:
    start = time.monotonic()
    result = run_function(
        "def f():\n    while True:\n        pass", "f", [], Limits(wall_seconds=1)
    )
    assert result.status == "timeout"
    assert time.monotonic() - start < 3


def test_memory_status() -> None:
    source = "def f():\n    return len(bytearray(2 * 1024 ** 3))"
    result = run_function(source, "f", [], Limits(wall_seconds=5, memory_bytes=128 * 2**20))
    assert result.status == "memory"


def test_random_is_seeded_reproducibly() -> None:
    source = "import random\ndef f():\n    return [random.random() for _ in range(3)]"
    first = run_function(source, "f", [], FAST, seed=7)
    again = run_function(source, "f", [], FAST, seed=7)
    other = run_function(source, "f", [], FAST, seed=8)
    assert first.value == again.value != other.value


def test_hash_seed_is_fixed() -> None:
    import os
    import subprocess
    import sys

    from selftaught.sandbox import shutdown

    env = {**os.environ, "PYTHONHASHSEED": "0"}
    expected = subprocess.run(
        [sys.executable, "-c", "print(hash('selftaught'))"], env=env, capture_output=True, text=True
    ).stdout.strip()
    source = "def f():\n    return hash('selftaught')"
    first = run_function(source, "f", [], FAST).value
    shutdown()  # a fresh zygote must agree too
    assert first == run_function(source, "f", [], FAST).value == int(expected)


def test_many_keeps_input_order() -> None:
    source = "import time\ndef f(x):\n    time.sleep(0.01 * (x % 3))\n    return x * x"
    results = run_function_many(source, "f", [[x] for x in range(12)], FAST, workers=2)
    assert [r.value for r in results] == [x * x for x in range(12)]


def test_inputs_are_copies() -> None:
    source = "def f(xs):\n    xs.append(99)\n    return len(xs)"
    args = [[1, 2]]
    assert run_function(source, "f", args, FAST).value == 3
    assert args == [[1, 2]]


def test_non_json_arguments_are_rejected() -> None:
    with pytest.raises(SandboxError):
        run_function("def f(x):\n    return x", "f", [object()], FAST)


def test_session_round_trip(tmp_path: Path) -> None:
    harness = tmp_path / "harness.py"
    harness.write_text(
        "import sandbox_channel\n"
        "init = sandbox_channel.recv()\n"
        "print('printing must not corrupt the channel')\n"
        "msg = sandbox_channel.recv()\n"
        "sandbox_channel.send({'got': msg, 'init': init})\n"
    )
    with SandboxSession.start(harness, {"k": 1}, Limits(wall_seconds=10)) as session:
        session.send({"x": [1, 2]})
        assert session.recv(5) == {"got": {"x": [1, 2]}, "init": {"k": 1}}
        with pytest.raises(SessionEnded) as ended:
            session.recv(5)
        assert ended.value.result.status == "ok"


def test_session_recv_timeout_and_wall_limit(tmp_path: Path) -> None:
    harness = tmp_path / "harness.py"
    harness.write_text("import sandbox_channel, time\nsandbox_channel.recv()\ntime.sleep(60)\n")
    session = SandboxSession.start(harness, {}, Limits(wall_seconds=1))
    assert session.recv(0.2) is None
    start = time.monotonic()
    with pytest.raises(SessionEnded) as ended:
        session.recv(10)
    assert ended.value.result.status == "timeout"
    assert time.monotonic() - start < 3


def test_a_dead_zygote_is_replaced() -> None:
    from selftaught.sandbox.api import get_pool

    assert run_function("def f():\n    return 1", "f", [], FAST).ok
    for zygote in list(get_pool()._all):
        zygote.proc.kill()
        zygote.proc.wait()
    assert run_function("def f():\n    return 2", "f", [], FAST).value == 2


def test_multiprocessing_pool_works_inside() -> None:
    source = (
        "import multiprocessing as mp\n"
        "def square(x):\n    return x * x\n"
        "def f(n):\n    with mp.Pool(2) as pool:\n        return pool.map(square, range(n))\n"
    )
    assert run_function(source, "f", [5], Limits(wall_seconds=20)).value == [0, 1, 4, 9, 16]


def test_large_arguments_and_results() -> None:
    data = list(range(300_000))  # a few MB of JSON each way
    limits = Limits(wall_seconds=20, output_bytes=8 * 2**20)
    result = run_function("def f(xs):\n    return xs[::-1]", "f", [data], limits)
    assert result.status == "ok"
    assert result.value == data[::-1]


def test_numpy_global_rng_is_seeded() -> None:
    source = "import numpy as np\ndef f():\n    return np.random.rand(3).tolist()"
    assert run_function(source, "f", [], FAST, seed=3).value == (
        run_function(source, "f", [], FAST, seed=3).value
    )
    assert run_function(source, "f", [], FAST, seed=3).value != (
        run_function(source, "f", [], FAST, seed=4).value
    )
