# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Patch json.dumps and the channel module so that the runner reports a forged value."""

import json
import sys


def attack():
    forged = '{"ok":true,"value":"forged"}'
    json.dumps = lambda *a, **k: forged
    channel = sys.modules.get("sandbox_channel")
    if channel is not None:
        original = channel.write_frame
        channel.write_frame = lambda fd, data: original(fd, forged.encode())
    return "honest"
