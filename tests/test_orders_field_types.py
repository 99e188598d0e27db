"""An order's id, its status, a line's SKU or id that a marketplace sends as a JSON value of another type.  A whole
number is read as its digits; a fraction, true/false, an object or a list used to be turned into text ("1.5",
"True", "{'a': 1}") and imported as such: now the order read fails naming the order and the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connector.marketplaces.ecomlinx.orders import EcomLinxOrderReader
from connector.marketplaces.elebne.orders import ElebneOrderReader
from connector.marketplaces.elryan.orders import ElryanOrderReader
from connector.orders.fields import OrderRecordError, RecordFields
from connector.orders.model import Order

AT = "2026-11-01T10:00:00Z"


def _ecomlinx(**changes: Any) -> Order:
    line = {"id": "ln_1", "sku": "TEA-500", "qty": 1, "price": 8.9, **changes.pop("line", {})}
    raw = {"id": "ord_1", "status": "new", "created_at": AT, "items": [line], **changes}
    return EcomLinxOrderReader(None, "main", {}).order(raw)  # type: ignore[arg-type]  # no call is made


def _elebne(**changes: Any) -> Order:
    line = {"externalId": "TEA-500", "quantity": 1, "unitPrice": 890, **changes.pop("line", {})}
    raw = {"id": "EL-1", "status": "PENDING", "createdAt": AT, "items": [line], **changes}
    return ElebneOrderReader(None, "shop", {}).order(raw)  # type: ignore[arg-type]


def _elryan(**changes: Any) -> Order:
    raw = {"POlineID": "5501", "Order Number": "PO55", "Item": "TEA-500", "Quantity": "1", "Selling Price": "8.90",
           "Status": "Pending Confirmation", "dateISO": "2026-11-01T00:00:00", **changes}
    (order,) = ElryanOrderReader(None, account="main").group([raw])  # type: ignore[arg-type]
    return order


READ: dict[str, Callable[..., Order]] = {"EcomLinx": _ecomlinx, "Elebne": _elebne, "Elryan": _elryan}
BAD: list[tuple[str, dict[str, Any], str]] = [
    ("EcomLinx", {"id": 1.5}, "id 1.5"),
    ("EcomLinx", {"status": True}, "status True"),
    ("EcomLinx", {"line": {"sku": 1.5}}, "items[0].sku 1.5"),
    ("EcomLinx", {"line": {"sku": {"code": "TEA-500"}}}, "items[0].sku {'code': 'TEA-500'}"),
    ("EcomLinx", {"line": {"id": 2.5}}, "items[0].id 2.5"),
    ("Elebne", {"id": False}, "id False"),
    ("Elebne", {"status": ["PENDING"]}, "status ['PENDING']"),
    ("Elebne", {"line": {"sku": True}}, "items[0].sku True"),  # not passed over for the externalId
    ("Elebne", {"line": {"externalId": 500.25}}, "items[0].externalId 500.25"),
    ("Elryan", {"Order Number": 55.5}, "Order Number 55.5"),
    ("Elryan", {"POlineID": True}, "POlineID True"),
    ("Elryan", {"Status": False}, "Status False"),
    ("Elryan", {"Item": 1.5}, "Item (the SKU) 1.5"),
]


@pytest.mark.parametrize(("source", "changes", "said"), BAD, ids=[f"{s} {c}" for s, c, _ in BAD])
def test_a_fraction_true_false_or_object_fails_the_order_naming_the_field(source: str, changes: dict[str, Any],
                                                                          said: str) -> None:
    with pytest.raises(OrderRecordError) as caught:
        READ[source](**changes)
    assert str(caught.value).startswith(f"{source} order ")
    assert str(caught.value).endswith(f": {said} is not a text or a whole number"), str(caught.value)


def test_whole_numbers_are_read_as_their_digits() -> None:
    order = _ecomlinx(id=1234, line={"sku": 500, "id": 7})
    assert (order.remote_id, order.lines[0].sku, order.lines[0].line_id) == ("1234", "500", "7")
    assert _elebne(line={"externalId": 500}).lines[0].sku == "500"
    order = _elryan(**{"Order Number": 55, "POlineID": 5501, "Item": 500})
    assert (order.remote_id, order.lines[0].line_id, order.lines[0].sku) == ("55", "5501", "500")
    assert RecordFields("EcomLinx", "ord_1").text(" A-1 ", "sku") == "A-1"
