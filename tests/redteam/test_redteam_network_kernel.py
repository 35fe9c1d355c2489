"""Network, signals and kernel access: loopback, external addresses, DNS, unix sockets, signals
to the parent, ptrace, raw syscalls via ctypes, nested user namespaces, cgroup escape, setuid."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from redteam_support import run_attack

from selftaught.sandbox import Limits

pytestmark = pytest.mark.redteam


def _accepted(listener: socket.socket) -> bool:
    listener.setblocking(False)
    try:
        connection, _address = listener.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


@pytest.fixture
def tcp_listener() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener


def test_loopback_is_unreachable(tcp_listener: socket.socket) -> None:
    port = tcp_listener.getsockname()[1]
    result = run_attack("loopback_tcp", port)
    assert result.status == "ok"
    assert not any(outcome.startswith("connected") for outcome in result.value)
    assert not _accepted(tcp_listener)


def test_external_addresses_and_raw_sockets_fail() -> None:
    result = run_attack("external_address")
    assert result.status == "ok"
    assert all(outcome != "ok" for outcome in result.value.values()), result.value


def test_dns_fails() -> None:
    result = run_attack("dns_lookup")
    assert result.status == "ok"
    assert str(result.value).startswith("failed")


def test_unix_sockets_outside_are_unreachable(tmp_path: Path) -> None:
    abstract = "selftaught-redteam-" + secrets.token_hex(4)
    with (
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as by_path,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as by_name,
    ):
        path = str(tmp_path / "host.sock")
        by_path.bind(path)
        by_path.listen(4)
        by_name.bind("\0" + abstract)
        by_name.listen(4)
        result = run_attack("unix_socket_outside", path, abstract)
        assert result.status == "ok"
        assert "connected" not in result.value.values(), result.value
        assert not _accepted(by_path) and not _accepted(by_name)


def test_signals_reach_neither_parent_nor_orchestrator() -> None:
    result = run_attack("signal_parent", os.getpid())
    assert result.status in {"ok", "crashed"}  # kill(-1) may hit only its own process
    if result.status == "ok":
        assert result.value["ppid"] != "delivered"
        assert result.value["init"] != "delivered"
        assert result.value["orchestrator"] == "ProcessLookupError"  # not even visible
    # run_attack already checked that the zygote survived and still serves calls


def test_ptrace_is_denied() -> None:
    result = run_attack("ptrace_attach")
    assert result.status == "ok"
    assert all(outcome != "ok" for outcome in result.value.values()), result.value


def test_supervisor_pipes_cannot_be_hijacked() -> None:
    result = run_attack("zygote_fd_hijack")
    assert result.status == "ok"
    assert result.value == []


def test_raw_syscalls_via_ctypes_are_denied() -> None:
    result = run_attack("ctypes_syscalls")
    assert result.status == "ok"
    assert all(outcome != "ok" for outcome in result.value.values()), result.value


def test_x32_syscall_abi_is_killed() -> None:
    result = run_attack("x32_syscall_abi")
    killed = result.status == "crashed" and "SIGSYS" in (result.error or "")
    refused = result.status == "ok" and result.value[0] == -1  # a kernel without x32 support
    assert killed or refused, result


def test_nested_user_namespaces_are_denied() -> None:
    result = run_attack("nested_userns", limits=Limits(wall_seconds=10))
    assert result.status == "ok"
    for tool, outcome in result.value.items():
        if tool.startswith("unshare") and isinstance(outcome, list):
            assert outcome[0] != 0, (tool, outcome)
    assert result.value["os.unshare"] != "ok"


def test_cgroup_escape_fails() -> None:
    result = run_attack("cgroup_escape")
    assert result.status == "ok"
    assert result.value.pop("visible") == []
    assert all(outcome not in {"ok", "moved"} for outcome in result.value.values()), result.value


def test_setuid_binaries_do_not_grant_root() -> None:
    result = run_attack("setuid_binaries", limits=Limits(wall_seconds=20))
    assert result.status == "ok"
    assert result.value["uid"] != 0 and result.value["euid"] != 0
