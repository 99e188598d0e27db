"""A profile's ``orders:`` section put to work: which marketplaces' orders are read, where they go, and what
the open ones hold back from the stock push (``connector orders`` and ``connector sync --profile``)."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from connector.config import OrdersSection, Profile
from connector.errors import EXIT_OK, ConfigError
from connector.marketplaces.registry import get_plugin
from connector.orders.destination import OrderDestination
from connector.orders.model import Order
from connector.orders.reservation import Reservation, accounted_by, reserve, stock_file
from connector.orders.run import MarketplaceOrders, OrdersOutcome
from connector.sync.session import SyncOptions, account_name
from connector.sync.state import StateStore
from connector.sync.stock_policy import Hold


def section_for(profile: Profile, to: str | None) -> OrdersSection:
    """The profile's ``orders:`` section, its destination replaced by ``--to`` (``odoo``, or a .xlsx / .csv file,
    relative to the current folder)."""
    if to is None:
        if profile.orders is None:
            raise ConfigError(f"profile {profile.path} has no 'orders:' section: add one (see README, Orders) or "
                              "give --to orders.xlsx")
        return profile.orders
    section = profile.orders or OrdersSection(to="workbook")
    if to == "odoo":
        return dataclasses.replace(section, to="odoo")
    path = Path(to).expanduser()
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise ConfigError(f"--to {to}: give 'odoo' or an orders workbook whose name ends in .xlsx or .csv")
    return dataclasses.replace(section, to="workbook", workbook=path.resolve())


def order_targets(profile: Profile, section: OrdersSection) -> list[str]:
    """The profile's targets whose orders are read: ``from``, else every target whose marketplace has an order
    reader."""
    if section.from_targets is not None:
        for name in section.from_targets:
            plugin = get_plugin(name)
            if plugin.make_order_reader is None:
                raise ConfigError(f"profile {profile.path}: 'orders.from' names {name}, but {plugin.title} orders "
                                  "cannot be read by this installation")
        return list(section.from_targets)
    found = [t for t in profile.targets if get_plugin(t).make_order_reader is not None]
    if not found:
        raise ConfigError(f"profile {profile.path}: none of its marketplaces ({', '.join(profile.targets)}) has an "
                          "order reader in this installation")
    return found


def step_targets(profile: Profile, section: OrdersSection, only: str | None) -> tuple[list[str], list[str]]:
    """(the targets whose orders the profile reads, those of them this run works on: ``only``, the ``--target``,
    when given; it must be one of the profile's targets)."""
    readers = order_targets(profile, section)
    if only is not None and only not in profile.targets:
        raise ConfigError(f"profile {profile.path} has no target {only!r} (it has: {', '.join(profile.targets)})")
    return readers, [t for t in readers if only is None or t == only]


def optional_odoo(module: str, opener: str, missing: ConfigError, section: OrdersSection, profile: Profile) -> Any:
    """What ``module.opener`` opens from the section's ``odoo:`` table (paths relative to the profile's folder);
    ``missing`` is raised when this installation lacks ``module`` (a module it imports that is missing is a bug,
    raised as is)."""
    try:
        open_odoo = getattr(importlib.import_module(module), opener)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith(module):
            raise
        raise missing from None
    base = profile.path.parent if profile.path else Path.cwd()
    return open_odoo(section.odoo, profile.source, base)


def unused_settings(profile: Profile, section: OrdersSection) -> list[str]:
    """The profile's ``orders:`` keys this run does not use because they are for the other destination: said as a
    warning, not refused (``--to odoo`` may use the ``odoo:`` table of a profile whose orders go to a workbook).
    Keys no destination knows are refused when the profile loads (config.py)."""
    declared = profile.orders
    if declared is None or declared.to != section.to:
        return []  # --to chose another destination than the profile's: its settings for the other are expected
    if section.to == "workbook" and section.odoo:
        return [f"profile {profile.path}: 'orders.odoo' is not used: the orders go to the workbook {section.workbook}, "
                "not to Odoo (set 'orders.to: odoo' to send them to Odoo, or remove 'orders.odoo')"]
    if section.to == "odoo" and section.workbook is not None:
        return [f"profile {profile.path}: 'orders.workbook' is not used: the orders go to Odoo (orders.to: odoo), "
                "not to the workbook (set 'orders.to: workbook' to write them there, or remove 'orders.workbook')"]
    return []


def open_destination(section: OrdersSection, profile: Profile) -> tuple[OrderDestination, str]:
    """(the destination, how reports name it), checked before anything is read or sent."""
    if section.to == "workbook":
        from connector.orders.workbook import WorkbookDestination

        assert section.workbook is not None  # orders_section / section_for
        inputs = [Path(p) for p in (profile.source.get("path"), profile.state, profile.path) if p]
        return WorkbookDestination.open(section.workbook, inputs), str(section.workbook)
    missing = ConfigError("orders to Odoo are not available in this installation; use 'orders: {to: workbook, "
                          "workbook: orders.xlsx}'")
    return optional_odoo("connector.orders.odoo", "open_odoo_destination", missing, section, profile), "Odoo"


def reservation(profile: Profile, section: OrdersSection, destination: OrderDestination, state: StateStore,
                options: Callable[[str], SyncOptions], *, pulled: Iterable[Order] = ()) -> Reservation:
    """What open orders of every marketplace the profile reads orders from hold back (``reservation.reserve``; with
    a stock file, also the orders shipped since it was last saved); nothing when ``reserve_open_orders`` is off."""
    if not section.reserve_open_orders:
        return Reservation()
    accounts: list[tuple[str, str]] = []
    dry = False
    for target in order_targets(profile, section):
        accounts.append((get_plugin(target).name, account_name(options(target), get_plugin(target))))
        dry = dry or options(target).dry_run
    held_by = accounted_by(destination.name, destination.reserves_imported, profile.source.get("type"))
    connection = section.odoo.get("connection") if section.to == "odoo" else None
    if isinstance(connection, dict) and connection.get("url") not in (None, profile.source.get("url")):
        held_by = None  # the orders go to another Odoo than the one the stock is read from
    return reserve(state, accounts, pulled=pulled, accounted=held_by, stock=stock_file(profile.source),
                   release=not dry)


def with_reservation(targets: Sequence[SyncOptions], held: Reservation) -> list[SyncOptions]:
    """Each target's options with the held-back quantities in its stock policy (and, in a dry run, the SKUs its
    orders read saw given back to that marketplace's stock)."""
    out = list(targets)
    if held.quantities:
        out = [dataclasses.replace(opts, stock_policy=dataclasses.replace(opts.stock_policy, reserved=held.quantities))
               for opts in out]
    if held.given_back:
        out = [dataclasses.replace(opts, given_back=frozenset(held.given_back.get(get_plugin(opts.target).name, ())))
               for opts in out]
    return out


def unread_hold(outcome: OrdersOutcome, state: StateStore, options: Callable[[str], SyncOptions]) -> Hold | None:
    """When some marketplace's orders were not read to the end this run, an order placed there since the last
    good read is unknown: no listed quantity may go up (``connector.sync.hold``; lowering one cannot oversell).
    The hold names why, and what is listed on those marketplaces (only that can have been sold there)."""
    failed = [run for run in outcome.runs if run.unread]
    if not failed:
        return None
    from connector.sync.hold import listed_keys

    listed: set[str] | None = set()
    for run in failed:
        opts = options(run.target)
        keys = listed_keys(state, run.target, run.account, opts.mapping or get_plugin(run.target).default_mapping)
        listed = None if keys is None or listed is None else listed | keys
    return Hold("; ".join(outcome.unread) + "; open orders there are unknown",
                None if listed is None else frozenset(listed))


def with_hold(targets: Sequence[SyncOptions], hold: Hold | None) -> list[SyncOptions]:
    """Each target's options with ``hold`` in its stock policy."""
    if hold is None:
        return list(targets)
    return [dataclasses.replace(opts, stock_policy=dataclasses.replace(opts.stock_policy, hold=hold))
            for opts in targets]


class OrdersStep:
    """The orders part of a run (``connector orders``, and ``connector sync --profile`` before its stock push): the
    destination is opened and checked when this is built, before anything is read or sent.  ``options(target)``
    gives a target's ``SyncOptions`` (the CLI's)."""

    def __init__(self, profile: Profile, section: OrdersSection, only: str | None,
                 options: Callable[[str], SyncOptions]) -> None:
        self.profile, self.section, self.options = profile, section, options
        self.readers, self.targets = step_targets(profile, section, only)
        self.destination, self.label = open_destination(section, profile)
        from rich.markup import escape

        from connector.console import out

        for warning in unused_settings(profile, section):
            out.print(f"[yellow]warning:[/] {escape(warning)}")

    def pull(self, state: StateStore, *, report_to: Path | None, several: bool) -> OrdersOutcome:
        from connector.console import out
        from connector.orders.reader import PullSettings
        from connector.orders.run import run_orders
        from connector.orders.summary import print_orders_summary

        def show(run: MarketplaceOrders) -> None:
            print_orders_summary(run.report)
            out.print(f"report: {run.report_path}")

        return run_orders([self.options(t) for t in self.targets], self.destination, state,
                          pull=PullSettings.from_settings(self.section.pull_settings), label=self.label,
                          report_to=report_to, several_reports=several, keep_reports=self.profile.reports_keep,
                          on_run=show)

    def run(self, state: StateStore, options: list[SyncOptions], *,
            report_to: Path | None) -> tuple[int, list[SyncOptions]]:
        """Pull the orders, then return (their exit code, ``options`` with what open orders hold back)."""
        from rich.markup import escape

        from connector.console import out
        from connector.orders.summary import print_reservation

        skipped = [t for t in self.readers if t not in self.targets]
        if skipped:
            out.print(f"orders of {', '.join(skipped)} not read by this run (--target): their open orders as last "
                      "read are held back")
        pulled = self.pull(state, report_to=report_to, several=True) if self.targets else None
        held = reservation(self.profile, self.section, self.destination, state, self.options,
                           pulled=pulled.pulled if pulled else ())
        print_reservation(held)
        hold = unread_hold(pulled, state, self.options) if pulled and self.section.reserve_open_orders else None
        if hold is not None:
            out.print(f"[yellow]oversell guard: no listed quantity is raised by this run:[/] {escape(hold.reason)} "
                      "(lowered quantities are sent)")
        return (pulled.exit_code if pulled else EXIT_OK), with_hold(with_reservation(options, held), hold)

    def hand_over_odoo(self, source: dict[str, Any]) -> Any:
        """The Odoo destination's logged-in connection when the profile's source is that same Odoo, for the stock
        read of the same ``connector sync`` (3 calls fewer); None otherwise."""
        if source.get("type") != "odoo":
            return None
        from connector.sources.odoo import settings_from_profile

        return self.destination.hand_over(settings_from_profile(source))

    def close(self) -> None:
        self.destination.close()
