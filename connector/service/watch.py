"""``connector watch``: near-real-time stock.  Every N seconds one cheap question to the source, "anything
changed since the cursor?", and a push (the same run as ``connector sync --profile P``) only when the answer is
yes; the push waits for the marketplace's budget like any run.

- Odoo: after the first poll's login, one ``search_read`` of at most one id over the incremental read's own
  domain (``OdooSource.changes_domain``) from the stored cursor, without the overlap window: an idle poll is one
  RPC.  The overlap (late-committed transactions whose ``write_date`` is before the cursor) stays the incremental
  run's business: the next push, or the scheduled ``stock`` job, re-reads it.
- A workbook: its size and modification time (no call at all).

``--enqueue`` hands the push to the workers (a ``stock`` job, under the account's lock) instead of running it
here; ``--once`` is one poll (the ``watch`` job kind).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connector.errors import EXIT_FAILED, EXIT_OK, ConfigError, SourceError

log = logging.getLogger("connector.service")


class OdooProbe:
    """Has Odoo changed since the state's cursor?  Keeps one logged-in backend between polls."""

    def __init__(self, source_config: dict[str, Any], state_location: Any, backend: Any = None) -> None:
        from connector.sources.odoo import OdooSettings, OdooSource

        data = {k: v for k, v in source_config.items() if k not in ("type", "from_env")}
        self.source = OdooSource(OdooSettings.from_dict(data), backend)
        self.state_location = state_location
        self.backend: Any = None

    def cursor(self) -> str | None:
        from connector.sources.odoo.reader import CURSOR_NAME
        from connector.sync.state import StateStore

        with StateStore.open(self.state_location, lock=False) as state:
            return state.get_cursor(self.source.settings.cursor_source, CURSOR_NAME)

    def changed(self) -> bool:
        from connector.sources.odoo.reader import PRODUCT, parse_cursor

        cursor = self.cursor()
        if cursor is None:
            return True  # never synced: the first push is a full read
        if self.backend is None:
            self.backend = self.source._connect()
        try:
            rows = self.backend.search_read(PRODUCT, self.source.changes_domain(parse_cursor(cursor)), ["id"],
                                            limit=1, context={"active_test": False})
        except SourceError:
            self.backend = None  # logged in again at the next poll
            raise
        return bool(rows)

    def pushed(self, code: int) -> None:
        """Nothing to remember: the push moved the cursor in the state (or kept it, to be read again)."""

    @property
    def calls(self) -> int:
        return self.backend.calls if self.backend is not None else 0


class FileProbe:
    """Has the workbook changed (size, modification time) since the last successful push?"""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.seen: tuple[int, int] | None = None
        self.pending: tuple[int, int] | None = None
        self.calls = 0

    def changed(self) -> bool:
        st = self.path.stat()
        self.pending = (st.st_size, st.st_mtime_ns)
        return self.pending != self.seen

    def pushed(self, code: int) -> None:
        if code in (EXIT_OK, EXIT_FAILED):
            self.seen = self.pending


def make_probe(profile: Any) -> OdooProbe | FileProbe:
    kind = profile.source.get("type")
    if kind == "odoo":
        return OdooProbe(profile.source, profile.state)
    if kind == "spreadsheet":
        return FileProbe(profile.source["path"])
    raise ConfigError(f"watch: a {kind!r} source has no cheap change check (odoo and workbooks have); schedule a "
                      "`stock` job instead")


def watch(profile_path: Path, target: str | None, *, every: float = 10.0, once: bool = False,
          enqueue_to: str | None = None, probe: Any = None, sleep: Callable[[float], None] = time.sleep,
          polls: int | None = None) -> int:
    """Poll until SIGTERM/SIGINT (or ``once``, or ``polls`` polls); the exit code of the last push."""
    from connector.config import load_profile
    from connector.service.jobs import run_command

    profile = load_profile(profile_path)
    if target is not None and target not in profile.targets:
        raise ConfigError(f"profile {profile_path} has no target {target!r} (it has: {', '.join(profile.targets)})")
    if every <= 0:
        raise ConfigError("--every must be more than 0 seconds")
    probe = probe or make_probe(profile)
    stop: list[str] = []
    previous = _on_stop(lambda: stop.append("stop"))
    code, done = EXIT_OK, 0
    try:
        while not stop:
            try:
                changed = probe.changed()
            except SourceError as exc:  # the source is down: say so and ask again at the next poll
                log.warning("watch: %s", exc)
                changed = False
            if changed:
                if enqueue_to:
                    from connector.service.commands import enqueue

                    enqueue(enqueue_to, profile_path, target, "stock")
                else:
                    argv = ["sync", "--profile", str(profile_path), "--no-progress"]
                    code = run_command(argv + (["--target", target] if target else []))
                    probe.pushed(code)
            done += 1
            if once or (polls is not None and done >= polls):
                break
            _sleep_unless(stop, every, sleep)
    finally:
        _restore(previous)
    return code


def _sleep_unless(stop: list[str], seconds: float, sleep: Callable[[float], None]) -> None:
    left = seconds
    while not stop and left > 0:  # in steps: a stop asked for while waiting is seen within half a second
        step = min(left, 0.5)
        sleep(step)
        left -= step


def _on_stop(handler: Callable[[], None]) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError):  # not the main thread (a worker's job): the worker's signals apply
            previous[sig] = signal.signal(sig, lambda _s, _f: handler())
    return previous


def _restore(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)
