"""The cycle collector around a large source, whose records are created in one burst and live until the run ends.

CPython's cycle collector now and then traverses every object of its older generations.  A 100,000-row catalogue
is millions of objects (records, variants, stock levels, their dicts and lists), none of them garbage, and the
plan and the report add hundreds of thousands more: those traversals took about an eighth of a whole
``sync --dry-run`` (timed with ``gc.callbacks``).  ``source_kept`` pauses the collector while the source is read,
then moves everything alive into the permanent generation (``gc.freeze``) for the rest of the run, and collects
less often (``RUN_THRESHOLD`` new objects instead of 700: a reference cycle lives a little longer, never for
the whole run).  On the way out, ``gc.unfreeze`` hands those objects back to the collector (a long-lived
process frees them as usual) and the collector is as it was.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

RUN_THRESHOLD = 100_000
"""Allocations (net of frees) between two young collections while a large source's run goes on."""


@contextmanager
def source_kept() -> Iterator[Callable[[], None]]:
    """``with source_kept() as read_done: source = read(); read_done(); ...run...``: the collector paused until
    ``read_done()``; what is alive then is kept out of its traversals until the block ends."""
    was_enabled, thresholds = gc.isenabled(), gc.get_threshold()
    frozen = False

    def read_done() -> None:
        nonlocal frozen
        if not frozen:
            gc.freeze()
            frozen = True
            gc.set_threshold(max(RUN_THRESHOLD, thresholds[0]), *thresholds[1:])
            if was_enabled:
                gc.enable()

    gc.disable()
    try:
        yield read_done
    finally:
        gc.set_threshold(*thresholds)
        if frozen:
            gc.unfreeze()
        if was_enabled:
            gc.enable()
