"""Giving freed native memory back to the operating system.

A read frees memory outside Python's own allocator: Arrow's memory pool (a sheet's columns) and the C heap (the
native readers' buffers).  Python's objects live in the interpreter's own arenas and cannot reuse those pages, so
the rest of a run would grow on top of them (a 100,000-row sheet leaves 40 to 70 MB behind) unless they are handed
back.  Best effort: Arrow's pool when Arrow is loaded, ``malloc_trim`` where the C library has it (glibc).
"""

from __future__ import annotations

import sys
from typing import Any


def release_freed_memory() -> None:
    """Hand Arrow's unused pool memory and the C heap's free pages back to the operating system."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or ``None`` (another C library, another system); looked up once."""
    global _TRIM
    if _TRIM is _UNKNOWN:
        try:
            import ctypes

            _TRIM = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError, TypeError):  # no such function, or no C library loadable by None
            _TRIM = None
    return _TRIM


_UNKNOWN = object()
_TRIM: Any = _UNKNOWN
