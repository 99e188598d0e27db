"""A 16-digit tracking number typed as a number: Excel keeps 15 significant digits (1234567890123456 becomes
1234567890123450) and writes it without an exponent, which openpyxl reads as an int: held like the float."""

from __future__ import annotations

import io

import openpyxl

from connector.fulfilment.workbook import tracking_problem
from connector.orders.workbook import key_text


def test_a_rounded_16_digit_number_read_as_an_int_is_held() -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1234567890123450  # stored <v>1234567890123450</v>, as Excel stores it
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    raw = openpyxl.load_workbook(buf).active["A1"].value
    assert isinstance(raw, int)
    assert tracking_problem(key_text(raw), raw) is not None


def test_a_short_number_is_still_sent() -> None:
    assert tracking_problem("123456789012", 123456789012) is None
    assert tracking_problem("123456789012", 123456789012.0) is None
