# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Catch SIGXCPU (the soft CPU limit) and keep burning CPU."""

import signal


def attack():
    signal.signal(signal.SIGXCPU, lambda *_: None)
    while True:
        pass
