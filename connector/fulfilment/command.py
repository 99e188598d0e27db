"""``connector fulfil --profile P [--dry-run] [--target T] [--report PATH]``: shipments and cancellations from
the merchant's system (the orders workbook, or Odoo) back to the marketplaces the orders came from."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connector.errors import ConfigError
from connector.orders.step_command import add_step_options


def add_parser(sub: Any) -> None:
    f = sub.add_parser("fulfil", help="send shipments, tracking numbers and cancellations back to the marketplaces")
    f.add_argument("--profile", type=Path, required=True, help="a sync profile (YAML) with an orders: section")
    f.add_argument("--target", help="only this marketplace (default: every one the profile reads orders from)")
    f.add_argument("--dry-run", action="store_true", help="read the source and say what would be sent; nothing is "
                                                          "sent or saved")
    add_step_options(f)


def run(args: argparse.Namespace, target_options: Callable[..., Any], stop_on_sigterm: Callable[[Any], Any]) -> int:
    """``target_options`` and ``stop_on_sigterm``: the CLI's, as ``connector orders`` uses them."""
    from connector.config import load_profile
    from connector.fulfilment.profile import FulfilStep
    from connector.orders.step_command import run_step

    profile = load_profile(args.profile)
    section = profile.orders
    if section is None:
        raise ConfigError(f"profile {profile.path} has no 'orders:' section: fulfilment sends back what happened to "
                          "the orders it brought in (see README, Orders)")
    if not section.fulfilment.enabled:
        raise ConfigError(f"profile {profile.path}: 'orders.fulfilment.enabled' is false: nothing to do")
    return run_step(args, profile, section, label="fulfilment", make_step=FulfilStep,
                    go=lambda step, state, **kw: step.run(state, **kw), target_options=target_options,
                    stop_on_sigterm=stop_on_sigterm)
