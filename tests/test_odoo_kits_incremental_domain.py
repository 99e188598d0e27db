"""With mrp installed, an incremental read must re-read a kit when only its components' stock changed (a kit has
no moves or quants of its own: selling it moves its components): else its stock stays the one of the last full
read, and the marketplace oversells it."""

from __future__ import annotations

from datetime import UTC, datetime

from connector.sources.odoo import OdooSettings, OdooSource

SINCE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _leaves(domain: list) -> list[str]:
    return [t[0] for t in domain if isinstance(t, tuple)]


def _well_formed(domain: list) -> bool:
    need = 1
    for t in domain:
        if need == 0:
            return False
        need += 1 if t == "|" or t == "&" else -1 if isinstance(t, tuple) else 0
    return need == 0


def test_the_changes_domain_follows_a_kits_components_when_mrp_is_installed() -> None:
    source = OdooSource(OdooSettings(url="http://odoo.test", db="shop"))
    source.has_kits = True  # what read() finds in fields_get (is_kits)
    domain = source.changes_domain(SINCE)
    leaves = _leaves(domain)
    assert "product_tmpl_id.bom_ids.bom_line_ids.product_id.stock_move_ids.write_date" in leaves
    assert "product_tmpl_id.bom_ids.bom_line_ids.product_id.stock_quant_ids.write_date" in leaves
    assert _well_formed(domain)


def test_without_mrp_the_domain_is_unchanged() -> None:
    source = OdooSource(OdooSettings(url="http://odoo.test", db="shop"))
    domain = source.changes_domain(SINCE)
    assert not any("bom" in leaf for leaf in _leaves(domain)) and _well_formed(domain)
