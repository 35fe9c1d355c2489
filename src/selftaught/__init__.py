"""selftaught: the Self-Taught Optimizer (STOP), with hostile-code isolation.

The public Python API mirrors the CLI: every command is a thin layer over a function here.
Submodules are imported lazily so that `import selftaught` stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"
