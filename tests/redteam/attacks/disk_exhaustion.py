# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Fill the scratch disk; report how much got written."""


def attack():
    written = 0
    try:
        with open("/tmp/fill", "wb") as handle:
            block = b"\0" * (1 << 20)
            while written < (8 << 30):
                handle.write(block)
                handle.flush()
                written += len(block)
    except OSError as exc:
        return {"written": written, "error": type(exc).__name__}
    return {"written": written, "error": None}
