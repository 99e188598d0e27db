"""``list()`` of an iterator whose length is known, allocated once.

A list made of a ``map`` (or ``islice``, ``zip``...) does not know its length: it grows an eighth at a time, and in a
heap as busy as a 100,000-row read's, the C library's ``realloc`` often moves it, copying every item so far (about a
tenth of a second of copying for such a file, the column lists and record lists together).  ``Presized(it, n)``
tells ``list()`` the length (``len``), so the list is allocated at its size once; the list is the same, and an
iterator that gives more or fewer items than ``n`` still gives all of them (the list then grows or shrinks as
before).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class Presized:
    """``iterator``, said to give ``n`` items (``len``): ``list(Presized(iterator, n))`` is ``list(iterator)``."""

    __slots__ = ("_it", "_n")

    def __init__(self, it: Iterator[Any], n: int) -> None:
        self._it = it
        self._n = n

    def __iter__(self) -> Iterator[Any]:
        return self._it

    def __len__(self) -> int:
        return self._n
