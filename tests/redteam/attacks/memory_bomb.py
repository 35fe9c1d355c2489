# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Allocate memory until something gives."""


def attack():
    hoard = []
    while True:
        hoard.append(bytearray(64 * 1024 * 1024))
