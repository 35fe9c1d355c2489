# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Resolve a public name (DNS exfiltration would start here)."""

import socket


def attack():
    try:
        return socket.getaddrinfo("pypi.org", 443)[:1]
    except OSError as exc:
        return f"failed: {type(exc).__name__}"
