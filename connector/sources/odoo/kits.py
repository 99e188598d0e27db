"""Consumable kits (18+): which ones Odoo counts stock for.

A kit (mrp's bill of materials of type kit) is often set up as a consumable (``type 'consu'`` without
``is_storable``), as Odoo's documentation advises.  Odoo still computes its quantities from its components'
(mrp's ``_compute_quantities_dict``), skipping the components that are not storable and the lines of quantity
0; with no storable component left, the kit reads 0 everywhere.  So a consumable kit is stocked when one of
its kit bills has a storable component, directly or through a kit inside it (a component that is itself a
kit is counted through its own components, as Odoo explodes it), and untracked otherwise.

``storable_component_domain`` says that as a ``product.product`` domain: it is added to the kits' context
reads of a page that has consumable kits (``GroupedStock._read_kits``), so the kits Odoo counts come back with
their quantities and the others do not, at no extra call.  It needs the ``any`` operator (Odoo 17+) and
``is_storable`` (18+).  Like ``OdooSource.changes_domain`` it looks two kits deep (a kit of a kit); it takes
every active kit bill of the variant or of its template (Odoo uses the first, by sequence, when there are
several) and ignores a bill line restricted to some variants' attribute values.
"""

from __future__ import annotations

from typing import Any

KIT_DEPTH = 2  # a kit, and a kit inside it (as changes_domain)
UNTRACKED_KIT = "consumable kit with no storable component"  # what a row of an untracked one says it is


def storable_component_domain(depth: int = KIT_DEPTH) -> list[Any]:
    """``product.product`` domain (one term): a kit with a storable component, ``depth`` kits deep."""
    part: list[Any] = ["&", ("product_id.is_storable", "=", True), ("product_id.is_kits", "=", False)]
    if depth > 1:  # a component that is a kit counts through its own components
        part = ["|", *part, ("product_id", "any", storable_component_domain(depth - 1))]
    bom = [("type", "=", "phantom"), ("active", "=", True), ("bom_line_ids", "any", [("product_qty", "!=", 0), *part])]
    template_bom = [("product_id", "=", False), *bom]  # a template's bill for all its variants
    return ["|", ("variant_bom_ids", "any", bom), ("product_tmpl_id.bom_ids", "any", template_bom)]


def kits_domain(kits: list[int], consumable: list[int]) -> list[Any]:
    """The domain of a page's kits' reads: its stocked kits, and those of its consumable kits that Odoo counts
    stock for (exactly ``[("id", "in", kits)]`` without consumable kits: the recorded reads)."""
    if not consumable:
        return [("id", "in", kits)]
    ids = sorted({*kits, *consumable})
    if not kits:
        return [("id", "in", ids), *storable_component_domain()]
    return [("id", "in", ids), "|", ("id", "in", kits), *storable_component_domain()]
