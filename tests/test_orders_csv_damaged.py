"""A damaged orders CSV (UTF-16 cut short or holding half a surrogate pair, as an Excel "Unicode text" export
copied badly) through the whole commands: `connector orders` and `connector fulfil` print the file, what is wrong
and what to do, exit 2 (nothing read, written or sent) and show no traceback."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.errors import EXIT_OK, EXIT_USAGE
from tests import test_orders_e2e as e2e
from tests.conftest import SandboxHandle

pytestmark = pytest.mark.sandbox
ecomlinx, keys = e2e.ecomlinx, e2e.keys  # the e2e test's sandbox and keys


@pytest.mark.parametrize("tail", [b"\x00", b"\x00\xd8A\x00"], ids=["cut-mid-character", "lone-surrogate"])
def test_a_damaged_utf16_orders_csv_is_refused_in_words_by_orders_and_fulfil(
        tmp_path: Path, elebne_sandbox: SandboxHandle, ecomlinx: Any, keys: None,
        capsys: pytest.CaptureFixture[str], tail: bytes) -> None:
    shop = e2e.write_shop(tmp_path, elebne_sandbox, ecomlinx, "{to: workbook, workbook: orders.csv, from: [ecomlinx]}")
    assert main(["sync", "--profile", str(shop), "--no-progress"]) == EXIT_OK  # the stock is listed
    ecomlinx.create_order({"channel": "amazon_in", "items": [{"sku": "TEA-500", "qty": 1, "price": 8.9}],
                           "customer": {"name": "Fatimetou", "city": "Nouakchott"}})
    assert main(["orders", "--profile", str(shop), "--no-progress"]) == EXIT_OK
    orders = tmp_path / "orders.csv"
    text = orders.read_text(encoding="utf-8-sig")
    orders.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le") + tail)
    before = orders.read_bytes()
    ecomlinx.create_order({"channel": "amazon_in", "items": [{"sku": "SOAP-01", "qty": 1, "price": 12.5}],
                           "customer": {"name": "Aminetou", "city": "Nouakchott"}})
    capsys.readouterr()
    for command in (["orders"], ["orders", "--dry-run"], ["fulfil"], ["fulfil", "--dry-run"], ["sync"]):
        code = main([*command, "--profile", str(shop), "--no-progress"])
        out = capsys.readouterr()
        said = out.out + out.err
        assert code == EXIT_USAGE, (command, said)
        assert f"orders file {orders}: line " in " ".join(said.split()) and "is not valid UTF-16" in said, said
        assert "Traceback" not in said
    assert orders.read_bytes() == before
