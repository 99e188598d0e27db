"""What ``connector orders`` and ``connector fulfil`` share: one step of the orders section (orders in, or
fulfilment back) run on its own from the command line, with the CLI's target options, state and report."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.errors import ConfigError

if TYPE_CHECKING:
    from connector.config import OrdersSection, Profile


def add_step_options(parser: argparse.ArgumentParser) -> None:
    """The options ``run_step`` reads besides ``--profile`` and ``--target``: state, report and progress."""
    parser.add_argument("--state", type=Path, help="state file (default: the profile's)")
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    parser.add_argument("--no-progress", action="store_true", help="no progress lines")
    parser.add_argument("--progress-every", type=float, default=30.0, metavar="SECONDS", help=argparse.SUPPRESS)


def run_step(args: argparse.Namespace, profile: Profile, section: OrdersSection, *, label: str,
             make_step: Callable[..., Any], go: Callable[..., Any], target_options: Callable[..., Any],
             stop_on_sigterm: Callable[[Any], Any]) -> int:
    """Build the step (``make_step(profile, section, args.target, options)``: it opens its destination or source),
    check ``--target`` and ``--report``, then ``go(step, state, report_to=..., several=False)`` with the state open
    and SIGTERM as a stop; the step is closed whatever happens.  Its exit code."""
    from connector.console import progress_factory
    from connector.http.stop import StopSignal
    from connector.sources.spreadsheet.outputs import check_output_path
    from connector.sync.state import StateStore
    from connector.sync.state.location import is_database_url, with_namespace

    state_path = with_namespace(args.state, profile.name) if args.state else profile.state
    progress = progress_factory(not args.no_progress, args.progress_every)
    stop = StopSignal()

    def options(target: str) -> Any:
        return target_options(args, profile, target, state_path=state_path, label=label, stock_cli={},
                              progress=progress, stop=stop)

    step = make_step(profile, section, args.target, options)
    try:
        if args.target and args.target not in step.targets:
            raise ConfigError(f"{args.target} is not among the marketplaces whose orders this profile reads "
                              f"({', '.join(step.readers)})")
        if args.report is not None:
            state_file = None if is_database_url(state_path) else state_path
            inputs = [Path(p) for p in (profile.path, state_file, profile.source.get("path"), section.workbook) if p]
            check_output_path(args.report, "--report", inputs, folder_must_exist=False)
        with StateStore.open(state_path) as state, stop_on_sigterm(stop):
            result = go(step, state, report_to=args.report, several=False)
    finally:
        step.close()
    return int(result.exit_code)
