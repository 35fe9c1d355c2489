# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Reach the internet: TCP to a public address, UDP to a public DNS server, raw sockets."""

import socket


def attack():
    outcomes = {}
    attempts = {
        "tcp": (socket.AF_INET, socket.SOCK_STREAM, ("1.1.1.1", 80)),
        "udp": (socket.AF_INET, socket.SOCK_DGRAM, ("8.8.8.8", 53)),
        "raw": (socket.AF_INET, socket.SOCK_RAW, ("8.8.8.8", 0)),
        "netlink": (16, socket.SOCK_RAW, None),
        "packet": (17, socket.SOCK_RAW, None),
    }
    for name, (family, kind, address) in attempts.items():
        try:
            with socket.socket(family, kind) as sock:
                sock.settimeout(1)
                if address:
                    sock.connect(address)
                    sock.send(b"x")
                outcomes[name] = "ok"
        except OSError as exc:
            outcomes[name] = f"{type(exc).__name__} {exc.errno}"
    return outcomes
