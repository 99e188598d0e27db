"""The field readers every marketplace's order reader shares (connector/orders/fields.py): one error with one exit
code for a record that cannot be read, status tables keyed without regard to case and blanks, amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.errors import EXIT_FAILED, ConfigError
from connector.orders.fields import OrderRecordError, RecordFields, record_fields, status_table
from connector.orders.model import OrderStatus


def test_a_record_that_cannot_be_read_is_one_error_with_exit_code_1_naming_order_and_line() -> None:
    with pytest.raises(OrderRecordError) as caught:
        RecordFields("Elryan", "PO55", line="5501").quantity("two", "Quantity")
    assert str(caught.value) == "Elryan order PO55, line 5501: Quantity 'two' is not a whole number of units"
    assert caught.value.exit_code == EXIT_FAILED
    assert (caught.value.order_id, caught.value.line) == ("PO55", "5501")
    unnamed = RecordFields("EcomLinx", None).error("id", "is missing")
    assert str(unnamed) == "EcomLinx order without an id: id is missing"


def test_record_fields_name_the_order_and_the_line_from_the_record() -> None:
    f, record = record_fields("Elryan", {"Order Number": " PO7 ", "POlineID": 88}, id_key="Order Number",
                              line_key="POlineID")
    assert (f.order_id, f.line, record["POlineID"]) == ("PO7", "88", 88)
    with pytest.raises(OrderRecordError, match=r"^Elebne order without an id: record is not an object: \['x'\]"):
        record_fields("Elebne", ["x"])


def test_status_tables_fold_case_and_blanks_and_a_profile_entry_replaces_a_default() -> None:
    table = status_table({"PENDING": "new", "Ready to Ship": "ready"}, {"Pending": "processing", "On  Hold": " New "},
                         setting="order_statuses")
    assert table == {"pending": OrderStatus.PROCESSING, "ready to ship": OrderStatus.READY, "on hold": OrderStatus.NEW}
    f = RecordFields("Elryan", "PO1")
    assert f.status(" ready  TO ship", table) is OrderStatus.READY
    with pytest.raises(OrderRecordError, match=r"status 'Lost' is not in the status table \(unknown status 'Lost'; "
                                               "add it to the target setting order_statuses"):
        f.status("Lost", table)
    with pytest.raises(ConfigError, match=r"settings\.order_statuses: 'x' maps to 'lost'"):
        status_table({}, {"x": "lost"}, setting="order_statuses")


def test_amounts_are_decimal_with_the_marketplaces_digit_grouping_and_optional_ones_may_be_blank() -> None:
    grouped = RecordFields("Elryan", "PO1", thousands=",")
    assert grouped.money("1,250.00", "Total Amount") == Decimal("1250.00")
    with pytest.raises(OrderRecordError, match=r"Total Amount 'ten' is not an amount \(like '1,250\.00'\)"):
        grouped.money("ten", "Total Amount")
    assert grouped.optional_money("  ", "Net Amount") is None
    assert grouped.optional_money("22.50", "Net Amount") == Decimal("22.50")
    plain = RecordFields("EcomLinx", "ord_1")
    assert plain.money(899.9, "price") == Decimal("899.9")
    with pytest.raises(OrderRecordError, match=r"price '1,250\.00' is not a number"):
        plain.money("1,250.00", "price")  # a comma is no digit grouping unless the marketplace writes one
    with pytest.raises(OrderRecordError, match="Selling Price '-5' is negative"):
        grouped.money("-5", "Selling Price")
