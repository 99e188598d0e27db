"""Giving freed native memory back to the operating system.

A read frees memory outside Python's own allocator: Arrow's memory pool (a sheet's columns) and the C heap (the
native readers' buffers).  Python's objects live in the interpreter's own arenas and cannot reuse those pages, so
the rest of a run would grow on top of them (a 100,000-row sheet leaves 40 to 70 MB behind) unless they are handed
back.  Best effort: Arrow's pool when Arrow is loaded, ``malloc_trim`` where the C library has it (glibc).

``malloc_trim`` cannot give back all of it by itself: glibc gives each thread that allocates an arena of its own,
and the free memory at the top of a thread's arena is never trimmed (only the main arena's is).  The spreadsheet
reader's threads (the sheet measure, the stock sheets' native loading) left 15 to 20 MB there for a 100,000-row
workbook.  ``one_malloc_arena`` has the threads started afterwards allocate from the main arena instead.
"""

from __future__ import annotations

import os
import platform
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


def one_malloc_arena() -> None:
    """Have glibc serve every thread from its main arena (``mallopt(M_ARENA_MAX, 1)``), so that what threads free
    is given back by ``release_freed_memory`` (see the module doc).  For the whole process, from the next thread
    that needs an arena on: the reader calls it before starting its threads.  Threads then share one lock around
    ``malloc``, which costs nothing measurable here (Python allocates small objects in its own allocator, and
    under the GIL).  Not done when ``MALLOC_ARENA_MAX`` is set (the user's choice), nor outside glibc."""
    global _ONE_ARENA
    if _ONE_ARENA:
        return
    _ONE_ARENA = True
    if "MALLOC_ARENA_MAX" in os.environ or platform.libc_ver()[0] != "glibc":
        return
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)
    except (OSError, AttributeError, TypeError):
        pass


_M_ARENA_MAX = -8  # glibc's malloc.h
_ONE_ARENA = False


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
