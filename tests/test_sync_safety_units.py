"""Issue 12 building blocks: mapping probes, guard settings and locations, currency rules, the template text."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from connector.config import load_profile
from connector.errors import ConfigError
from connector.mapping import load_mapping
from connector.marketplaces.registry import get_plugin
from connector.model import Money, Product, StockLevel, Variant
from connector.sources.spreadsheet import write_template
from connector.sync.currency import (
    CurrencySettings,
    convert,
    convert_products,
    currency_settings,
    require_source_currency,
)
from connector.sync.guard import GuardSettings, check_stock_locations, guard_settings
from connector.sync.missing import missing_policy
from connector.sync.payload_shape import probe_shapes, revive, stock_items
from connector.sync.stock_policy import StockPolicy


def shapes_of(name: str) -> dict:
    plugin = get_plugin(name)
    settings = {**plugin.settings, "email": "shop@example.test"}
    adapter = plugin.make_adapter(None, settings, "acct", "secret")  # type: ignore[arg-type]
    return probe_shapes(load_mapping(plugin.default_mapping), adapter, plugin.settings.get("defaults") or {})


def test_probes_find_where_each_shipped_mapping_writes_quantity_and_status() -> None:
    elebne = shapes_of("elebne")
    assert ("variants", "*", "quantity") in elebne["stock"].quantity_paths
    assert ("quantity",) in elebne["stock"].quantity_paths
    assert elebne["product"].product_status == {("status",): "INACTIVE"}
    assert ("variants", "*", "sku") in elebne["product"].sku_paths
    elryan = shapes_of("elryan")
    assert elryan["price_stock"].quantity_paths == [("items", "*", "stock")]
    assert elryan["product"].product_status[("is_active",)] is False
    assert elryan["product"].variant_status == {("variants", "*", "is_active"): False}
    assert ("items", "*", "price") in elryan["price_stock"].decimal_paths
    ecomlinx = shapes_of("ecomlinx")
    assert ("quantity",) in ecomlinx["stock"].quantity_paths
    assert ecomlinx["product"].product_status == {("status",): "inactive"}
    # Elebne's product quantity is the sum of its variants'; no other shipped stock payload has such a total
    assert elebne["stock"].total_paths == {("quantity",): ("variants", ("quantity",))}
    assert elryan["price_stock"].total_paths == {} and ecomlinx["stock"].total_paths == {}


def test_a_product_quantity_copied_from_one_variant_is_not_taken_for_a_sum(tmp_path: Path) -> None:
    """An integrator's mapping that writes the first variant's quantity at product level (not the sum): the probe
    tells them apart, so the missing policy never adds a kept variant's quantity to it."""
    plugin = get_plugin("elebne")
    text = Path(plugin.default_mapping).read_text(encoding="utf-8")
    assert "      quantity: product.qty\n" in text
    mine = tmp_path / "elebne-first.yaml"
    first = "      quantity: {expr: '(product.variants | first).qty'}\n"
    mine.write_text(text.replace("      quantity: product.qty\n", first), encoding="utf-8")
    adapter = plugin.make_adapter(None, dict(plugin.settings), "acct", "secret")  # type: ignore[arg-type]
    shapes = probe_shapes(load_mapping(mine), adapter, plugin.settings.get("defaults") or {})
    assert ("quantity",) in shapes["stock"].quantity_paths and shapes["stock"].total_paths == {}


def test_stock_items_are_variants_when_there_are_some_and_bodies_are_revived() -> None:
    shape = shapes_of("elebne")["stock"]
    body = {"externalId": "TEE", "mode": "set", "quantity": 9,
            "variants": [{"label": "M / Blue", "quantity": 9}, {"label": "L / Red", "quantity": 0}]}
    assert stock_items(body, shape) == {"m / blue": 9, "l / red": 0}
    assert stock_items({"externalId": "SOAP", "mode": "set", "quantity": 4}, shape) == {"": 4}
    elryan = shapes_of("elryan")["price_stock"]
    body = revive({"spu": "TEE", "items": [{"sku": "A", "stock": 1, "price": "25000.5"}]}, elryan)
    assert body["items"][0]["price"] == Decimal("25000.5")


def test_guard_settings_and_missing_policy_are_checked() -> None:
    assert guard_settings(None) == GuardSettings(Decimal("0.2"), False)
    assert guard_settings({"max_share": "0.5"}, {"allow_mass_change"}) == GuardSettings(Decimal("0.5"), True)
    for bad in ({"max_share": 2}, {"max_share": "lots"}, {"allow_mass_change": "yes"}, {"maxshare": 1}, [1]):
        with pytest.raises(ConfigError):
            guard_settings(bad)
    assert missing_policy(None) == "zero" and missing_policy("Disable") == "disable"
    with pytest.raises(ConfigError, match="zero, disable, keep"):
        missing_policy("delete")


def _stocked(*locations: str) -> list[Product]:
    v = Variant(sku="A", stock={loc: StockLevel(loc, available=1) for loc in locations}, stock_known=True)
    return [Product(key="A", variants=[v])]


def test_an_unknown_stock_location_is_an_error() -> None:
    check_stock_locations(StockPolicy(locations=("Warehouse",)), _stocked("Warehouse", "Shop"))
    with pytest.raises(ConfigError, match=r"'Warehose'.*Shop, Warehouse"):
        check_stock_locations(StockPolicy(locations=("Warehose",)), _stocked("Warehouse", "Shop"))
    # a source without any stock cannot set anything to 0: nothing to check
    check_stock_locations(StockPolicy(locations=("Warehose",)), [Product(key="A", variants=[Variant(sku="A")])])


def test_conversion_rounds_to_the_account_minor_units_and_refuses_without_a_rate() -> None:
    settings = CurrencySettings(account="MRU", rates={"EUR": Decimal("43.2")})
    assert convert(Money(Decimal("10"), "EUR"), settings, "Elebne") == Money(Decimal("432.00"), "MRU")
    assert convert(Money(Decimal("0.0125"), "EUR"), settings, "Elebne") == Money(Decimal("0.54"), "MRU")
    assert convert(Money(Decimal("3"), "MRU"), settings, "Elebne") == Money(Decimal("3"), "MRU")
    with pytest.raises(ValueError, match="price is in USD but the Elebne account sells in MRU"):
        convert(Money(Decimal("10"), "USD"), settings, "Elebne")
    eur = Product(key="P", variants=[Variant(sku="P", price=Money(Decimal("10"), "EUR"),
                                             cost=Money(Decimal("5"), "USD"))])
    usd = Product(key="Q", variants=[Variant(sku="Q", price=Money(Decimal("10"), "USD"))])
    out, refused = convert_products([eur, usd], settings, "Elebne")
    assert [p.key for p in out] == ["P"] and set(refused) == {"Q"}
    assert out[0].variants[0].price == Money(Decimal("432.00"), "MRU") and not out[0].variants[0].cost
    assert eur.variants[0].price.currency == "EUR"  # the source is shared by targets: never changed in place


def test_account_currency_comes_from_the_profile_then_the_document() -> None:
    assert currency_settings("elebne").account == "MRU"
    assert currency_settings("ecomlinx").account is None  # "INR (or currency set on account)": the profile says
    assert currency_settings("ecomlinx", settings={"currency": "EUR"}).account == "EUR"
    with pytest.raises(ConfigError, match="disagree"):
        currency_settings("ecomlinx", {"account": "EUR"}, settings={"currency": "INR"})
    assert currency_settings("elryan").account is None  # Elryan variants carry their own currency code
    both = currency_settings("elebne", {"account": "MRU", "rates": {"EUR": "43"}},
                             {"rates": {"USD": "39.5"}, "minor_units": 0})
    assert both == CurrencySettings("MRU", {"EUR": Decimal("43"), "USD": Decimal("39.5")}, 0)
    for bad in ({"rates": {"EUR": "-1"}}, {"rates": {"EURO": "1"}}, {"account": "M"}, {"acount": "MRU"}):
        with pytest.raises(ConfigError):
            currency_settings("elebne", bad)


def test_a_supplier_feed_must_be_told_its_currency() -> None:
    with pytest.raises(ConfigError, match="does not say which currency"):
        require_source_currency({"type": "aleta"}, None, {})
    config = {"type": "aleta"}
    assert require_source_currency(config, "eur", {}) is None and config["currency"] == "EUR"
    assert require_source_currency({"type": "aleta"}, None, {"ALETA_CURRENCY": "EUR"}) is None
    assert "assumed MRU" in (require_source_currency({"type": "aleta", "from_env": True}, None, {}) or "")
    assert require_source_currency({"type": "spreadsheet"}, None, {}) is None


def test_profile_keys_are_validated_when_loaded(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("source: x.xlsx\nmissing: disable\ncurrency: {rates: {EUR: '43.2'}}\n"
                       "targets:\n  elebne: {guard: {max_share: 0.1}, missing: keep}\n", encoding="utf-8")
    loaded = load_profile(profile)
    assert loaded.safety == {"missing": "disable", "currency": {"rates": {"EUR": "43.2"}}}
    assert loaded.targets["elebne"].safety == {"guard": {"max_share": 0.1}, "missing": "keep"}
    profile.write_text("source: x.xlsx\ntargets:\n  elebne: {missing: delete}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="missing"):
        load_profile(profile)


@pytest.mark.parametrize(("lang", "words"), [("en", "no longer in source"), ("fr", "n'est plus dans la source"),
                                             ("ar", "لم يعد في المصدر")])
def test_the_template_says_what_happens_to_a_deleted_row(tmp_path: Path, lang: str, words: str) -> None:
    path = tmp_path / f"t-{lang}.xlsx"
    write_template(path, lang=lang)
    wb = load_workbook(path)
    text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert words in text


def test_likely_causes_name_an_empty_location_an_unused_sheet_missing_and_archived_products() -> None:
    from connector.sources.base import SourceResult
    from connector.sync.guard import likely_causes

    def variant(sku: str, **stock: int) -> Variant:
        return Variant(sku=sku, stock={k: StockLevel(k, available=q) for k, q in stock.items()}, stock_known=True,
                       qty=sum(stock.values()))

    source = SourceResult(products=[Product(key="A", variants=[variant("A", WH=0, Shop=2)]),
                                    Product(key="B", active=False, variants=[variant("B", WH=0, Shop=0)])],
                          warnings=["sheet 'Warehouse' is not used"])
    causes = likely_causes(source, StockPolicy(), missing_count=3, missing_policy="zero")
    assert "stock location / warehouse 'WH' holds no stock at all in the source" in causes
    assert any("3 SKU(s) are no longer in the source (missing: zero)" in c for c in causes)
    assert "1 product(s) are archived / inactive in the source" in causes
    assert "sheet 'Warehouse' is not used (a renamed stock sheet?)" in causes
    nothing = SourceResult(products=[Product(key="A", variants=[variant("A", WH=0)])])
    causes = likely_causes(nothing, StockPolicy(locations=("Shop",)))
    assert any("every stocked SKU of the source lists 0" in c for c in causes)


def test_the_unstated_currency_warning_does_not_claim_anything_was_sent() -> None:
    """It is printed after dry runs and runs stopped at a refused key too, where nothing went out."""
    from connector.sync.currency import unstated_warning

    products = [Product(key="A", variants=[Variant(sku="A", price=Money(Decimal("2"), "MRU"))])]
    text = unstated_warning("ecomlinx", "EcomLinx", None, products)
    assert text is not None and "MRU" in text and "were sent" not in text


def test_likely_causes_name_stock_held_only_outside_the_counted_locations() -> None:
    """`--stock-locations Shop` lists 0 for SKUs whose stock is all in Warehouse: the guard says so."""
    from connector.sources.base import SourceResult
    from connector.sync.guard import likely_causes

    variant = Variant(sku="A", stock={"Warehouse": StockLevel("Warehouse", available=5),
                                      "Shop": StockLevel("Shop", available=0)}, stock_known=True, qty=0)
    causes = likely_causes(SourceResult(products=[Product(key="A", variants=[variant])]),
                           StockPolicy(locations=("Shop",)))
    assert any("counts only 'Shop'" in c and "have stock in 'Warehouse'" in c for c in causes), causes
    counted = Variant(sku="B", stock={"Shop": StockLevel("Shop", available=3)}, stock_known=True, qty=3)
    causes = likely_causes(SourceResult(products=[Product(key="B", variants=[counted])]),
                           StockPolicy(locations=("Shop",)))
    assert not any("counts only" in c for c in causes)
