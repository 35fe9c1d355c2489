# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Return an object with __reduce__ (would run code if the result were pickled back)."""

import os


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch /tmp/pwned-by-return",))


def attack():
    return Exploit()
