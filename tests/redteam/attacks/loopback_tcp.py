# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Connect to a TCP listener the test opened on the host's loopback interface."""

import socket


def attack(port):
    outcomes = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.settimeout(1)
                sock.connect((host, port))
                sock.sendall(b"pwned")
                outcomes.append(f"connected {host}")
        except OSError as exc:
            outcomes.append(f"{host}: {type(exc).__name__} {exc.errno}")
    return outcomes
