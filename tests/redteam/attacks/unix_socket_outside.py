# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Connect to unix sockets of the host: a path the test listens on, and abstract names."""

import glob
import socket


def attack(path, abstract_name):
    outcomes = {}
    targets = [path, "\0" + abstract_name] + glob.glob("/run/*.sock") + glob.glob("/var/run/*")
    for target in targets:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1)
                sock.connect(target)
                sock.sendall(b"pwned")
                outcomes[repr(target)] = "connected"
        except OSError as exc:
            outcomes[repr(target)] = f"{type(exc).__name__} {exc.errno}"
    return outcomes
