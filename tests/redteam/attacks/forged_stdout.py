# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Print what looks like a result (framed and unframed) and a perfect score, return garbage."""

import json
import os
import struct
import sys


def attack():
    fake = json.dumps({"ok": True, "value": "forged", "score": 1.0}).encode()
    os.write(1, struct.pack(">I", len(fake)) + fake)
    sys.stdout.write('{"ok": true, "value": "forged"}\nscore: 1.0\n')
    sys.stdout.flush()
    os.write(2, fake)
    return "honest"
