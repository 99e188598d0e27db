"""The dry run's checks of payloads and records done the quick way for the usual case (issue 16) give what the
rule-by-rule way gives: the same problems, in the same order and words.  No timing is asserted here."""

from __future__ import annotations

import random

import pytest

from connector.marketplaces import wording
from connector.model import Product, SourceRef, Variant


def random_product(rnd: random.Random, i: int) -> Product:
    """Variants whose attribute columns are the same, in another order, partly missing or empty; values alike
    once spaces and case are ignored, or empty."""
    columns = rnd.sample(["Size", "Color", "Fit"], rnd.randint(1, 3))
    variants = []
    for j in range(rnd.randint(1, 4)):
        names = list(columns)
        fate = rnd.randrange(8)
        if fate == 0:
            names = []
        elif fate == 1 and len(names) > 1:
            names = names[:-1]
        elif fate == 2:
            rnd.shuffle(names)
        elif fate == 3:
            names = [*names, "Extra"]
        values = {n: rnd.choice(["M", " m ", "L", "Blue", "BLUE", "7", " 7", ""]) for n in names}
        variants.append(Variant(sku=f"P{i}-{j}", attributes=values, ref=SourceRef("Products", 10 * i + j)))
    return Product(key=f"P{i}", name="N", variants=variants)


@pytest.mark.parametrize("seed", range(5))
def test_sibling_problems_are_those_of_the_rule_by_rule_check(seed: int) -> None:
    rnd = random.Random(seed)
    outcomes = set()
    for i in range(300):
        product = random_product(rnd, i)
        expected = wording._sibling_problems_in_full(product) if product.has_variants else []
        assert wording.sibling_problems(product) == expected
        outcomes.add(bool(expected))
    assert outcomes == {True, False}


def test_sibling_problems_of_variants_alike_only_once_their_values_are_compared() -> None:
    same = [Variant(sku="A", attributes={"Size": "M", "Color": "Blue"}),
            Variant(sku="B", attributes={"Color": " blue", "Size": "m"})]  # same columns, another order
    problems = wording.sibling_problems(Product(key="P", name="N", variants=same))
    assert [str(p) for p in problems] == [
        "SKU B: Attribute columns ' blue / m' are the same as SKU A's: variants of one product need different values"]
    different = [Variant(sku="A", attributes={"Size": "M"}), Variant(sku="B", attributes={"Size": "L"})]
    assert wording.sibling_problems(Product(key="P", name="N", variants=different)) == []
