"""A stock location the last run had that is gone from the workbook holds the stock back: never summed without it.

A variant's listed stock is the sum over the locations a workbook gives (its ``Stock - <location>`` sheets, a
CSV's ``Stock: <location>`` columns).  A sheet deleted or renamed by mistake (``Shop stock`` is only "not used"),
or a CSV that lost a column, listed less for every SKU, and 0 for those stocked only there, exit 0 as long as the
mass-change guard's share was not crossed.  So the locations a workbook gave are remembered per target and account
(a state cursor: ``stock_locations:<marketplace>``, the account -> JSON of location -> where it was read), by each
real run that sends its stock (not refused by the guard, the marketplace reached).  A later run whose workbook
lacks one of them sends no stock computed without it: each variant whose stock it read is left as the marketplace
has it (``Variant.qty`` absent: no stock payload of it, as for a stock-sheet row refused for its quantity), every
row of it is skipped with code ``stock_location_missing`` (attention, exit 1) and a reason naming the location and
its sheet or column; the catalogue still goes.  Such a run remembers nothing, so each run holds the stock until
the sheet is back or the removal is allowed: ``--allow-location-removal`` (or the profile's
``guard: {allow_location_removal: true}``) sends the stock without it, and the locations left are remembered.

A location added holds nothing; a first run (nothing remembered) neither.  Not for locations the profile names
(``stock.locations``, ``--stock-locations``: one the source lacks is an error already,
``guard.check_stock_locations``), nor for sources whose locations are not a file's sheets or columns (an Odoo
warehouse archived is a deliberate act; Aleta's feed: ``SourceResult.stock_locations`` None).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from connector.model import ABSENT, STOCK_KINDS
from connector.sources.base import SourceResult
from connector.sync.report import PUSHED, SKIPPED, RunReport
from connector.sync.state import StateStore
from connector.sync.stock_policy import StockPolicy

CURSOR = "stock_locations"  # state cursor ``stock_locations:<marketplace>``, the account -> the locations (JSON)
CODE = "stock_location_missing"  # the code of the rows whose stock is held back
ALLOW_HINT = "--allow-location-removal"

Origins = dict[str, tuple[str, str]]  # location -> ("sheet", its name) or ("column", its header)


@dataclass
class VanishedLocations:
    """What ``hold_vanished`` found for one target: the remembered locations the source lacks, the SKUs whose stock
    is held back, and what a real run that sends its stock remembers (None: nothing)."""

    gone: Origins = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    allowed: bool = False  # gone, and the removal allowed: the stock is sent without them
    remember: Origins | None = None

    def reason(self) -> str:
        """Why a held SKU's stock is not sent, naming each location gone and where it was read."""
        shown = " and ".join(f"'{name}' ({kind} '{where}')" for name, (kind, where) in self.gone.items())
        kinds = {kind for kind, _where in self.gone.values()}
        one = len(self.gone) == 1
        what = (f"the {next(iter(kinds))}" if one else f"the {next(iter(kinds))}s") if len(kinds) == 1 else "them"
        return (f"stock not sent: location{'' if one else 's'} {shown} {'was' if one else 'were'} in the last run "
                f"and {'is' if one else 'are'} missing from this {'workbook' if 'sheet' in kinds else 'file'}; "
                f"restore {what}, or run once with {ALLOW_HINT} to drop {'it' if one else 'them'}")


def _key(location: str) -> str:
    return " ".join(location.casefold().split())


def remembered(state: StateStore, marketplace: str, account: str) -> Origins | None:
    """The locations remembered for this target and account; None when none was (a first run)."""
    raw = state.get_cursor(f"{CURSOR}:{marketplace}", account)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return {str(name): (str(kind), str(where)) for name, (kind, where) in data.items()}
    except (ValueError, TypeError, AttributeError):  # unreadable: as if nothing were remembered (a first run)
        return None


def hold_vanished(source: SourceResult, policy: StockPolicy, state: StateStore, marketplace: str, account: str, *,
                  allow: bool) -> VanishedLocations:
    """Once the stock policy set ``Variant.qty`` for this target: unless ``allow``, make absent the listed quantity
    of every variant whose stock the source read, when a location remembered for this target is missing."""
    out = VanishedLocations()
    now = source.stock_locations
    if now is None or policy.locations is not None:
        return out
    before = remembered(state, marketplace, account) or {}
    present = {_key(name) for name in now}
    out.gone = {name: origin for name, origin in before.items() if _key(name) not in present}
    if out.gone and not allow:
        for product in source.products:
            if product.kind not in STOCK_KINDS:
                continue
            for variant in product.variants:
                if variant.stock_known and variant.active and isinstance(variant.qty, int):
                    variant.qty = ABSENT  # no stock payload of it: left as the marketplace has it
                    out.held.add(variant.sku)
        return out
    out.allowed = bool(out.gone)
    if dict(now) != before:
        out.remember = dict(now)
    return out


def remember(found: VanishedLocations, state: StateStore, marketplace: str, account: str) -> None:
    """Remember the locations of a real run that sent its stock (``found.remember``, when they changed)."""
    if found.remember is not None:
        state.set_cursor(f"{CURSOR}:{marketplace}", account,
                         json.dumps({name: list(origin) for name, origin in found.remember.items()},
                                    ensure_ascii=False, sort_keys=True))


def account_vanished(report: RunReport, found: VanishedLocations) -> None:
    """Every row of a held SKU skipped with the reason (attention: exit 1), saying what else of it went; a note."""
    if not found.gone:
        return
    if found.allowed:
        report.notes.append(f"stock location(s) of the last run missing from this file, dropped as asked "
                            f"({ALLOW_HINT}): " + ", ".join(f"'{n}' ({k} '{w}')" for n, (k, w) in found.gone.items())
                            + "; the stock " + ("would be" if report.dry_run else "is") + " sent without them")
        return
    reason = found.reason()
    for row in report.rows:
        if row.sku not in found.held or row.attention:
            continue
        said = reason
        if row.status == PUSHED:  # its catalogue changes went
            said += f"; its other changes {'would be' if report.dry_run else 'were'} sent"
        row.status, row.reason, row.code, row.attention = SKIPPED, said, CODE, True
    said = f"stock of {len(found.held)} SKU(s) not sent, left as the marketplace has it" if found.held else \
        "no stock sent"  # (the file gives no stock at all: nothing to hold, nothing remembered either)
    report.notes.append(f"{said}: {reason.removeprefix('stock not sent: ')}")
