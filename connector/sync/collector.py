"""The cycle collector and the heap around a large source, whose records are created in one burst and live until
the run ends.

CPython's cycle collector now and then traverses every object of its older generations.  A 100,000-row catalogue
is millions of objects (records, variants, stock levels, their dicts and lists), none of them garbage, and the
plan and the report add hundreds of thousands more: those traversals took about an eighth of a whole
``sync --dry-run`` (timed with ``gc.callbacks``).  ``source_kept`` pauses the collector while the source is read,
then moves everything alive into the permanent generation (``gc.freeze``) for the rest of the run, and collects
less often (``RUN_THRESHOLD`` new objects instead of 700: a reference cycle lives a little longer, never for
the whole run).  On the way out, ``gc.unfreeze`` hands those objects back to the collector (a long-lived
process frees them as usual) and the collector is as it was.

When the command is the process's own (``connector sync`` from a shell or cron, not a library call or a service
job), the source and the run's outcome are left for the operating system to take back when the process ends
(``leave_for_exit``) instead of being freed object by object on the way out (about 0.2 s for 100,000 rows).

When the read is done, the memory it freed outside Python's allocator (Arrow's pool, the native readers' buffers in
the C heap) is given back to the operating system (``release_freed_memory``): Python's objects cannot reuse those
pages, and the rest of the run would otherwise grow on top of them (a 100,000-row dry run: 128 MB less after the
read, a peak about 95 MB lower).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from connector.memory import release_freed_memory  # tests replace this module's name

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
            release_freed_memory()
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


def leave_for_exit(*objects: object) -> None:
    """For a command that ends its process right after (``connector.cli.main`` of the process's own command line):
    ``objects`` (plain data: the source read, the run's outcome, millions of objects for a 100,000-row catalogue)
    are not freed one by one on the way out; the operating system takes their memory back with the process.  They
    are held by a reference cycle the collector never looks at (``gc.freeze``: nor does its last pass at exit).
    Never call it where the process goes on (a service's worker, tests): the memory would stay taken until
    something calls ``gc.unfreeze``.  Files and the state must be closed before; nothing of theirs is held here."""
    holder: list[object] = [*objects]
    holder.append(holder)
    gc.freeze()
