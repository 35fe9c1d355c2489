"""selftaught.core: improver sessions, proxies, the meta-utility and code extraction.

The loop parses code from several threads at once (R concurrent improver runs). CPython before
3.12 can fail such concurrent `ast.parse` calls with "SystemError: AST constructor recursion depth
mismatch" (python/cpython#106905), so parsing is serialised process-wide here.
"""

from __future__ import annotations

import ast
import sys
import threading
from typing import Any

if sys.version_info < (3, 12) and not getattr(ast.parse, "_selftaught_locked", False):
    _PARSE_LOCK = threading.RLock()
    _unlocked_parse = ast.parse

    def _locked_parse(*args: Any, **kwargs: Any) -> Any:
        with _PARSE_LOCK:
            return _unlocked_parse(*args, **kwargs)

    _locked_parse._selftaught_locked = True  # type: ignore[attr-defined]
    ast.parse = _locked_parse
