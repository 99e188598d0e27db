"""The profile runner: one source read, pushed to every target of a profile.

It owns what a run over several targets decides once: the loop over targets, where each report is saved
(and its file name), the exit code that wins, and the incremental cursors, promoted only when every target
confirmed its push (Singer's rule: a bookmark moves after the write is confirmed, never before).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_UNREACHABLE
from connector.sources.base import SourceResult
from connector.sync.runner import PlanCheck, SyncOutcome, run_sync
from connector.sync.session import SyncOptions
from connector.sync.state import StateStore

# Which exit code wins when several targets ran: unreachable > failed > partial > ok (others rank as failed).
_SEVERITY = {EXIT_OK: 0, EXIT_PARTIAL: 1, EXIT_FAILED: 2, EXIT_UNREACHABLE: 3}


def severity(code: int) -> int:
    return _SEVERITY.get(code, 2)


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
                on_outcome: Callable[[SyncOutcome, Path], None] | None = None) -> ProfileOutcome:
    """Push ``source`` to each target in turn (one state, locked by the caller); save each report; promote the
    source's cursors when every target ended with exit 0 (never on a dry run)."""
    result = ProfileOutcome()
    for opts in targets:
        outcome = run_sync(source, opts, progress, state, checks)
        report = outcome.report
        path = report_path(report.run_id, opts.target, state_path=opts.state_path, requested=report_to,
                           several=len(targets) > 1)
        report.save(path)
        result.outcomes[opts.target] = outcome
        result.exit_code = worst([result.exit_code, report.exit_code])
        if on_outcome is not None:
            on_outcome(outcome, path)
    dry_run = any(opts.dry_run for opts in targets)
    if source.cursors and not dry_run:
        if result.exit_code == EXIT_OK:
            for (src, name), value in source.cursors.items():
                state.set_cursor(src, name, value)
            result.cursors_saved = True
        else:
            result.cursors_kept = True
    return result
