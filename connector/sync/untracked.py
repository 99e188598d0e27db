"""What a run says of the products whose stock the source does not track (Odoo services, consumables and combos:
``Product.kind`` not in ``STOCK_KINDS``; an Odoo consumable kit is among them only without a storable component,
which its rows say).

Their on-hand quantity means nothing (Odoo reads 0), so the stock policy lists none (``ABSENT``) and no stock is
sent for them: a run never lists 0, or any other number the source did not give, for a service.  Each of their
rows says so with the code ``STOCK_NOT_TRACKED`` and what the marketplace then shows (the adapter's
``untracked_stock_left``), and one note says how to list a quantity for them: the target setting
``defaults.untracked_stock`` (``stock_policy.untracked_stock``), with which their stock is sent as any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from connector.model import ABSENT, STOCK_KINDS, Product
from connector.sync.report import PUSHED, UNCHANGED, RunReport
from connector.sync.rows import RowTable
from connector.sync.stock_policy import UNTRACKED_SETTING

STOCK_NOT_TRACKED = "STOCK_NOT_TRACKED"


def untracked_skus(products: Iterable[Product]) -> dict[str, str]:
    """SKU -> what the product is (its kind, or the source's ``untracked_as``: Odoo's "consumable kit with no
    storable component") of every variant whose stock the source does not track and that lists no quantity."""
    return {v.sku: str(p.extra.get("untracked_as") or p.kind) for p in products if p.kind not in STOCK_KINDS
            for v in p.variants if v.qty is ABSENT}


def account_untracked(report: RunReport, products: Iterable[Product], title: str, left: str) -> None:
    """Give the pushed and unchanged rows of untracked SKUs the code ``STOCK_NOT_TRACKED`` and their reason, and
    the report a note (``left``: what ``title`` shows for them, ``AdapterBase.untracked_stock_left``).  Rows that
    failed or were skipped keep their own reason."""
    skus = untracked_skus(products)
    if not skus:
        return
    left = left.format(title=title)
    rows = report.rows
    column = rows.skus() if type(rows) is RowTable else [r.sku for r in rows]
    # (id of an outcome, kind) -> (that outcome, kept alive for its id, and its new one, shared by its rows)
    changed: dict[tuple[int, str], tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
    for i, sku in enumerate(column):
        kind = skus.get(sku or "")
        if kind is None:
            continue
        row = rows[i]
        outcome = row._outcome
        status, actions, reason, message, code, attention, sheet = outcome
        if status not in (PUSHED, UNCHANGED) or code is not None:
            continue
        found = changed.get((id(outcome), kind))
        if found is None:
            said = f"stock not tracked in the source (a {kind}): no quantity sent; {left}"
            found = changed[(id(outcome), kind)] = (outcome, (
                status, actions, f"{reason}; {said}" if reason else said, message, STOCK_NOT_TRACKED, attention,
                sheet))
        row._outcome = found[1]
    first = next(iter(skus))
    report.notes.append(
        f"{len(skus)} SKU(s) whose stock the source does not track (services, consumables, combos), e.g. {first} "
        f"(a {skus[first]}): no quantity is sent to {title} ({STOCK_NOT_TRACKED}), never 0; {left}; to list a "
        f"quantity for them, set {UNTRACKED_SETTING} in the target's settings")
