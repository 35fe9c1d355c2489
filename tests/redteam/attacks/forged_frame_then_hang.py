# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Write a forged 'ok' result frame straight to the result pipe, then hang past the deadline."""

import time


def attack(helper_source):
    namespace = {}
    exec(helper_source, namespace)
    namespace["forge"](b'{"ok":true,"value":"forged"}')
    time.sleep(10_000)
