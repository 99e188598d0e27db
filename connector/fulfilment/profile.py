"""A profile's ``orders:`` section put to work for fulfilment: the source is where the orders went
(``orders.to``), the marketplaces are the ones the orders come from (``connector fulfil`` and ``connector sync
--profile`` after the orders-in step)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from connector.config import OrdersSection, Profile
from connector.errors import ConfigError
from connector.fulfilment.run import FulfilRunOutcome, MarketplaceFulfilment, run_fulfil
from connector.fulfilment.source import FulfilmentSource
from connector.orders.profile import OrdersStep, optional_odoo, step_targets
from connector.sync.session import SyncOptions
from connector.sync.state import StateStore


class SourceUnavailable(ConfigError):
    """This installation has no fulfilment source for ``orders.to`` (Odoo without its fulfilment module)."""


def open_source(section: OrdersSection, profile: Profile) -> tuple[FulfilmentSource, str]:
    """(the fulfilment source, how reports name it): the orders workbook, or Odoo."""
    if section.to == "workbook":
        from connector.fulfilment.workbook import open_workbook_source

        return open_workbook_source(section.workbook), str(section.workbook)
    missing = SourceUnavailable("fulfilment from Odoo is not available in this installation; ship from the orders "
                                "workbook ('orders: {to: workbook, workbook: orders.xlsx}')")
    return optional_odoo("connector.fulfilment.odoo", "open_odoo_source", missing, section, profile), "Odoo"


class FulfilStep:
    """The fulfilment part of a run (``connector fulfil``, and ``connector sync --profile`` between the orders in
    and the stock push): the source is opened when this is built, before anything is read or sent."""

    def __init__(self, profile: Profile, section: OrdersSection, only: str | None,
                 options: Callable[[str], SyncOptions]) -> None:
        self.profile, self.section, self.options = profile, section, options
        self.readers, self.targets = step_targets(profile, section, only)
        self.source, self.label = open_source(section, profile)

    def run(self, state: StateStore, *, report_to: Path | None, several: bool) -> FulfilRunOutcome:
        from connector.console import out
        from connector.fulfilment.summary import print_fulfil_summary

        def show(run: MarketplaceFulfilment) -> None:
            print_fulfil_summary(run.report)
            out.print(f"report: {run.report_path}")

        return run_fulfil([self.options(t) for t in self.targets], self.source, self.section.to, state,
                          settings=self.section.fulfilment, label=self.label, report_to=report_to,
                          several_reports=several, keep_reports=self.profile.reports_keep, on_run=show)

    def share_odoo(self, orders: OrdersStep | None) -> None:
        """With Odoo as both the orders destination and the fulfilment source: the destination's logged-in
        connection is used, not a second login."""
        if orders is None or self.section.to != "odoo":
            return
        from connector.fulfilment.odoo import OdooFulfilmentSource

        if isinstance(self.source, OdooFulfilmentSource):
            self.source.adopt(orders.destination.hand_over(self.source.settings.connection))

    def hand_over_odoo(self, source: dict[str, Any]) -> Any:
        """The Odoo source's connection for the stock read of the same ``connector sync`` when the profile's stock
        source is that same Odoo; None otherwise."""
        if source.get("type") != "odoo" or self.section.to != "odoo":
            return None
        from connector.fulfilment.odoo import OdooFulfilmentSource
        from connector.sources.odoo import settings_from_profile

        if not isinstance(self.source, OdooFulfilmentSource):
            return None
        return self.source.hand_over(settings_from_profile(source))

    def close(self) -> None:
        self.source.close()
