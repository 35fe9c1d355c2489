# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Bypass the runner's encoder: write NaN/Infinity/huge-int JSON straight to the result pipe."""

import os


def attack(helper_source, body):
    namespace = {}
    exec(helper_source, namespace)
    namespace["forge"](body.encode())
    os._exit(0)
