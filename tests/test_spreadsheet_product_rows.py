"""A product's record from its rows (``build._build_products``): variants in row order, its images those of its
variants in order and each once, on sale when one of its rows is not marked No; a product refused for its name
leaves the others whole.  The Arrow reader and the csv module's give the same records."""

from __future__ import annotations

from tests.fast_paths import both, same


def test_products_of_several_rows_beside_simple_ones_and_a_refused_one(tmp_path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "Parent SKU,SKU,Name,Price,Images,Active,Attribute: Size\n"
        "TS,TS-S,Tee,5,a.jpg b.jpg,No,S\n"
        "TS,TS-M,,5,\"b.jpg,c.jpg\",Yes,M\n"
        ",SOAP,Soap,3,s.jpg,No,\n"
        "NN,NN-S,,4,n.jpg,Yes,S\n"  # no name on its first row: refused, and its other row with it
        "NN,NN-M,,4,,Yes,M\n"
        "TS,TS-L,,6,a.jpg,No,L\n"
        ",TEA,Tea,2,,,\n",
        encoding="utf-8")
    fast, slow, used = both(path)
    assert used
    same(fast, slow)
    got = [(p.key, [v.sku for v in p.variants], p.images, p.active) for p in fast.products]
    assert got == [("TS", ["TS-S", "TS-M", "TS-L"], ["a.jpg", "b.jpg", "c.jpg"], True),
                   ("SOAP", ["SOAP"], ["s.jpg"], False), ("TEA", ["TEA"], [], True)]
    tee = fast.products[0]
    assert tee.images is not tee.variants[0].images  # the product's list is its own
    assert [r.skipped_reason for r in fast.rows if r.sku.startswith("NN")] == [
        "Name: missing required value", "product 'NN' has no name (row 5)"]
