"""The profile runner: one source read, pushed to every target of a profile.

It owns what a run over several targets decides once: the loop over targets, where each report is saved
(and its file name), the exit code that wins, and the incremental cursors, promoted only when every target
confirmed its push (Singer's rule: a bookmark moves after the write is confirmed, never before).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.config import default_state_dir
from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE, EXIT_USAGE
from connector.sync.state.location import report_anchor

if TYPE_CHECKING:  # (saving a report needs none of them: sync/unchanged.py saves one without planning)
    from connector.sources.base import SourceResult
    from connector.sync.report import RunReport
    from connector.sync.runner import PlanCheck, SyncOutcome
    from connector.sync.session import SyncOptions
    from connector.sync.state import StateStore

log = logging.getLogger("connector.sync")

# Which exit code wins when several targets ran: unreachable > refused (nothing sent) > failed > partial > ok
# (others rank as refused).
_SEVERITY = {EXIT_OK: 0, EXIT_PARTIAL: 1, EXIT_FAILED: 2, EXIT_USAGE: 3, EXIT_UNREACHABLE: 4}


def severity(code: int) -> int:
    return _SEVERITY.get(code, 3)


def worst(codes: Sequence[int]) -> int:
    return max(codes, key=severity, default=EXIT_OK)


def report_path(run_id: str, target: str, *, state_path: Path, requested: Path | None, several: bool) -> Path:
    """``--report FILE`` as given (``FILE-<target>.json`` when several targets ran); by default
    ``reports/<run id>-<target>.json`` beside the state file."""
    if requested is None:
        return state_path.parent / "reports" / f"{run_id}-{target}.json"
    if several:
        return requested.with_name(f"{requested.stem}-{target}{requested.suffix}")
    return requested


KEEP_REPORTS = 100
"""Reports kept per profile unless the profile says ``reports: {keep: N}``."""
REPORT_NAME = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}-[A-Za-z0-9_.-]+\.json")
"""The name of a report the connector writes by default (``<run id>-<target>.json``)."""


def rotate_reports(saved: Path, state_path: Path, keep: int) -> list[Path]:
    """Note ``saved`` in the profile's list of the reports it wrote (``.<state file>.reports`` in the same
    folder, several profiles may share it), then delete the oldest of them beyond the newest ``keep``; returns
    the deleted files.  Only files on that list with a report's name are ever deleted."""
    listing = saved.parent / f".{state_path.name}.reports"
    try:
        names = [n for n in listing.read_text(encoding="utf-8").splitlines() if n.strip()]
    except FileNotFoundError:
        names = []
    names = [n for n in names if n != saved.name] + [saved.name]
    old, names = names[:max(0, len(names) - keep)], names[max(0, len(names) - keep):]
    deleted = []
    for name in old:
        path = saved.parent / name
        if REPORT_NAME.fullmatch(name) and path.is_file():
            path.unlink(missing_ok=True)
            deleted.append(path)
    listing.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    return deleted


def save_report(report: RunReport, name: str, state_path: Path, *, requested: Path | None, several: bool,
                keep: int = KEEP_REPORTS) -> Path:
    """Save ``report`` where ``report_path`` says (``name``: the target, or ``orders-<target>``); in the default
    folder, the profile's newest ``keep`` reports are kept.  Returns the path."""
    anchor = report_anchor(state_path, default_state_dir())  # a PostgreSQL state: the default folder
    path = report_path(report.run_id, name, state_path=anchor, requested=requested, several=several)
    report.save(path)
    if requested is None:
        try:
            rotate_reports(path, anchor, keep)
        except OSError as exc:  # old reports left behind never fail a run
            log.warning("reports not rotated in %s: %s", path.parent, exc)
    return path


def run_sync(source: SourceResult, opts: SyncOptions, *args: Any, **kwargs: Any) -> SyncOutcome:
    """``runner.run_sync``, imported on first use: saving a report (``save_report``) needs no planning modules."""
    from connector.sync.runner import run_sync as run

    return run(source, opts, *args, **kwargs)


@dataclass
class ProfileOutcome:
    exit_code: int = EXIT_OK
    outcomes: dict[str, SyncOutcome] = field(default_factory=dict)  # target -> its outcome
    cursors_saved: bool = False
    cursors_kept: bool = False  # the source had cursors, not promoted: the next run reads the changes again


def run_profile(source: SourceResult, targets: Sequence[SyncOptions], state: StateStore, *,
                report_to: Path | None = None,
                progress: Callable[[int], Callable[[int], None]] | None = None,
                checks: Sequence[PlanCheck] = (),
                on_outcome: Callable[[SyncOutcome, Path], None] | None = None,
                keep_reports: int = KEEP_REPORTS,
                before_save: Callable[[RunReport], None] | None = None) -> ProfileOutcome:
    """Push ``source`` to each target in turn (one state, locked by the caller); save each report once, after
    ``before_save`` (in the default folder, the newest ``keep_reports`` are kept); promote the source's cursors
    when every target confirmed every valid row (``SourceResult.cursors_may_advance``; never on a dry run)."""
    from connector.sync.report import SKIPPED

    result = ProfileOutcome()
    cursors_ok = True  # every valid row confirmed by every target (rows the source skipped as invalid do not count)
    skipped: set[str] = set()  # SKUs a target skipped: an incremental source reads them again next time
    dry_run = any(opts.dry_run for opts in targets)
    # (gathered only for a source that reads them again: a row at a time, 0.1 s of 300,000 rows)
    rechecks = source.recheck is not None and not dry_run
    for opts in targets:
        outcome = run_sync(source, opts, progress, state, checks)
        report = outcome.report
        if rechecks:
            skipped.update(row.sku for row in getattr(report, "rows", ()) if row.status == SKIPPED and row.sku)
        if before_save is not None:
            before_save(report)
        path = save_report(report, opts.target, opts.state_path, requested=report_to, several=len(targets) > 1,
                           keep=keep_reports)
        result.outcomes[opts.target] = outcome
        result.exit_code = worst([result.exit_code, report.exit_code])
        cursors_ok = cursors_ok and source.cursors_may_advance(report)
        if on_outcome is not None:
            on_outcome(outcome, path)
    if source.cursors and not dry_run:
        if cursors_ok and source.recheck is not None:
            source.recheck(skipped)
        if cursors_ok:
            for (src, name), value in source.cursors.items():
                state.set_cursor(src, name, value)
            result.cursors_saved = True
        else:
            result.cursors_kept = True
    return result
