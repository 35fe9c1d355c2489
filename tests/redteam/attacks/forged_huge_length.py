# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Claim a 4 GiB result frame on the result pipe and stall."""

import time


def attack(helper_source):
    namespace = {}
    exec(helper_source, namespace)
    namespace["forge"](b"{", length=0xFFFFFFF0)
    time.sleep(10_000)
