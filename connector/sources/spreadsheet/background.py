"""A workbook read on a thread of its own, started before the sync command has imported and set up the rest.

Most of an ``.xlsx`` read is native code that lets go of the GIL: fastexcel opening the workbook and loading
the Products sheet (about 1.1 s of 100,000 rows).  The sync command's own imports and setup (the console, the
marketplace plugins, the mapping engine, the state: about 0.35 s) are Python that holds it.  Run one after the
other they add up; here the read starts first, the command waits until the read is in its native load (after
the guard, Python too, has measured the sheet: the two would only take turns), and then imports and sets up
while the sheet loads.  ``result`` hands over the read (or raises its error) on the calling thread.

Only for a read whose place in the run nothing else decides: the command starts one when it is about to read the
workbook anyway (no orders step that writes the stock file first), after the file's hash was taken.
"""

from __future__ import annotations

import threading
from pathlib import Path

from connector.memory import one_malloc_arena
from connector.sources.base import SourceResult

SUFFIXES = frozenset({".xlsx", ".xlsm"})  # what fastexcel loads (other files read as Python: nothing to overlap)


class BackgroundRead:
    """``read_spreadsheet(path, currency=...)`` on a thread; ``wait_for_load`` returns once it is in its native load
    (or done), ``result`` once it is done."""

    def __init__(self, path: Path, currency: str) -> None:
        self.loading = threading.Event()
        self._outcome: tuple[SourceResult | None, BaseException | None] = (None, None)
        one_malloc_arena()  # before the thread allocates (see memory.py)
        # not a daemon: a process that ends while the read is in fastexcel's native load would abort (the load
        # returning to a finalizing interpreter is a fatal error, exit 134); the interpreter waits for it instead
        self._thread = threading.Thread(target=self._run, args=(path, currency), name="spreadsheet-read")
        self._thread.start()

    def _run(self, path: Path, currency: str) -> None:
        from connector.sources.spreadsheet import read_spreadsheet

        try:
            self._outcome = (read_spreadsheet(path, currency=currency, loading=self.loading), None)
        except BaseException as exc:  # re-raised by ``result`` on the calling thread
            self._outcome = (None, exc)
        finally:
            self.loading.set()

    def wait_for_load(self) -> None:
        self.loading.wait()

    def close(self, *, wait: bool) -> None:
        """Let go of a read nobody took (the run stopped before it): ``wait`` for its thread to end (a library
        caller's process goes on), or leave it to end before the process does (the error is said at once)."""
        if wait:
            self._thread.join()
        self._outcome = (None, None)

    def result(self) -> SourceResult:
        self._thread.join()
        result, error = self._outcome
        self._outcome = (None, None)
        if error is not None:
            raise error
        assert result is not None
        return result
