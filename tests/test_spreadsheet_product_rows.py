"""A product's record from its rows (``build._build_products``): variants in row order, its images those of its
variants in order and each once, on sale when one of its rows is not marked No; a product refused for its name
leaves the others whole.  The Arrow reader and the csv module's give the same records."""

from __future__ import annotations

from pathlib import Path

from connector.sources.base import SourceResult
from tests.fast_paths import both, same


def _read(path: Path, text: str) -> SourceResult:
    """The file written and read by both readers, which give the same records; the fast one's result."""
    path.write_text(text, encoding="utf-8")
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    return fast


def test_products_of_several_rows_beside_simple_ones_and_a_refused_one(tmp_path) -> None:
    fast = _read(tmp_path / "c.csv",
        "Parent SKU,SKU,Name,Price,Images,Active,Attribute: Size\n"
        "TS,TS-S,Tee,5,a.jpg b.jpg,No,S\n"
        "TS,TS-M,,5,\"b.jpg,c.jpg\",Yes,M\n"
        ",SOAP,Soap,3,s.jpg,No,\n"
        "NN,NN-S,,4,n.jpg,Yes,S\n"  # no name on its first row: refused, and its other row with it
        "NN,NN-M,,4,,Yes,M\n"
        "TS,TS-L,,6,a.jpg,No,L\n"
        ",TEA,Tea,2,,,\n")
    got = [(p.key, [v.sku for v in p.variants], p.images, p.active) for p in fast.products]
    assert got == [("TS", ["TS-S", "TS-M", "TS-L"], ["a.jpg", "b.jpg", "c.jpg"], True),
                   ("SOAP", ["SOAP"], ["s.jpg"], False), ("TEA", ["TEA"], [], True)]
    tee = fast.products[0]
    assert tee.images is not tee.variants[0].images  # the product's list is its own
    assert [r.skipped_reason for r in fast.rows if r.sku.startswith("NN")] == [
        "Name: missing required value", "product 'NN' has no name (row 5)"]


def test_interleaved_products_with_every_row_good_keep_the_order_of_their_first_rows(tmp_path) -> None:
    # (every row good: only the rows with a Parent SKU are grouped, the others are products of their own; a Parent
    # SKU equal to its own row's SKU groups that row with the others)
    fast = _read(tmp_path / "c.csv",
        "Parent SKU,SKU,Name,Price,Images\n"
        ",SOAP,Soap,3,s.jpg\n"
        "TS,TS-S,Tee,5,a.jpg\n"
        "MUG,MUG,Mug,4,m.jpg\n"
        ",TEA,Tea,2,\n"
        "TS,TS-M,,5,b.jpg a.jpg\n"
        "MUG,MUG-XL,,6,x.jpg\n"
        ",OIL,Oil,7,\n"
        "TS,TS-L,,6,\n")
    assert fast.issues == []
    got = [(p.key, p.name, [v.sku for v in p.variants], p.images) for p in fast.products]
    assert got == [("SOAP", "Soap", ["SOAP"], ["s.jpg"]), ("TS", "Tee", ["TS-S", "TS-M", "TS-L"], ["a.jpg", "b.jpg"]),
                   ("MUG", "Mug", ["MUG", "MUG-XL"], ["m.jpg", "x.jpg"]), ("TEA", "Tea", ["TEA"], []),
                   ("OIL", "Oil", ["OIL"], [])]
    assert [p.ref.row for p in fast.products] == [2, 3, 4, 5, 8]


def test_a_row_refused_as_its_product_is_resolved_leaves_the_rest_grouped(tmp_path) -> None:
    fast = _read(tmp_path / "c.csv",
        "Parent SKU,SKU,Name,Price\n"
        "TS,TS-S,Tee,5\n"
        ",SOAP,Soap,3\n"
        "TS,TS-M,Shirt,5\n"  # another name than its product's first row: refused
        "TS,TS-L,,6\n")
    assert [(p.key, [v.sku for v in p.variants]) for p in fast.products] == [("TS", ["TS-S", "TS-L"]),
                                                                              ("SOAP", ["SOAP"])]
    assert [(x.row, x.reason.split(" (")[0]) for x in fast.issues] == [(4, "differs from row 2 of Parent SKU 'TS'")]


def test_translations_and_category_paths_of_the_products(tmp_path) -> None:
    head = "Parent SKU,SKU,Name,Price,Category,Name (fr),Description (fr),Name (ar),Description (ar)\n"
    rows = (",SOAP,Soap,3,Home > Bath,Savon,Un savon,صابون,وصف\n"
            "TS,TS-S,Tee,5,Home > Bath,T-shirt,Un tee,قميص,وصف 2\n"
            "TS,TS-M,,5,,,,,\n")
    every = tmp_path / "every.csv"  # every translation given (the template's two languages)
    every.write_text(head + rows, encoding="utf-8")
    fast, slow, used = both(every)
    assert used
    same(fast, slow)
    assert [p.translations for p in fast.products] == [
        {"fr_FR": {"name": "Savon", "description": "Un savon"}, "ar_001": {"name": "صابون", "description": "وصف"}},
        {"fr_FR": {"name": "T-shirt", "description": "Un tee"}, "ar_001": {"name": "قميص", "description": "وصف 2"}}]
    soap, tee = fast.products
    assert soap.category_path == tee.category_path == ["Home", "Bath"] and soap.category_path is not tee.category_path
    assert soap.translations["fr_FR"] is not tee.translations["fr_FR"]
    some = tmp_path / "some.csv"  # a product without its Arabic texts, one without a category
    some.write_text(head + rows.replace("صابون,وصف", ",").replace("Home > Bath,T-shirt", ",T-shirt"), encoding="utf-8")
    fast, slow, used = both(some)
    same(fast, slow)
    assert [p.translations for p in fast.products] == [
        {"fr_FR": {"name": "Savon", "description": "Un savon"}},
        {"fr_FR": {"name": "T-shirt", "description": "Un tee"}, "ar_001": {"name": "قميص", "description": "وصف 2"}}]
    assert [p.category_path for p in fast.products] == [["Home", "Bath"], []]


def test_attributes_and_stock_of_rows_filled_in_part(tmp_path) -> None:
    fast = _read(tmp_path / "c.csv",
        "Parent SKU,SKU,Name,Price,Attribute: Size,Attribute: Color,Attribute: Material,Stock: Shop,Stock: Depot\n"
        ",SOAP,Soap,3,,,,4,5\n"
        "TS,TS-S,Tee,5,S,Blue,Cotton,1,\n"
        "TS,TS-M,,5,M,,Cotton,,2\n"
        "TS,TS-L,,5,,Red,,3,3\n")
    variants = [v for p in fast.products for v in p.variants]
    assert [v.attributes for v in variants] == [{}, {"Size": "S", "Color": "Blue", "Material": "Cotton"},
                                                {"Size": "M", "Material": "Cotton"}, {"Color": "Red"}]
    assert [{loc: level.available for loc, level in v.stock.items()} for v in variants] == [
        {"Shop": 4, "Depot": 5}, {"Shop": 1}, {"Depot": 2}, {"Shop": 3, "Depot": 3}]
    assert len({id(v.attributes) for v in variants}) == len({id(v.stock) for v in variants}) == 4
