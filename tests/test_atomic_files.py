"""Files something reads later without a person looking are replaced whole (connector/atomic.py): an export
cut short is never a shorter catalogue that a later sync takes for products gone from the source, and a report
is never half a JSON document."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.atomic import replace_file
from connector.model import Money, Product, StockLevel, Variant
from connector.sources.spreadsheet import export, read_spreadsheet
from connector.sync.report import RunReport


def _products(n: int) -> list[Product]:
    return [Product(key=f"SKU-{i}", name=f"Product {i}",
                    variants=[Variant(sku=f"SKU-{i}", price=Money(Decimal("9.50"), "MRU"),
                                      stock={"Main": StockLevel("Main", available=i)}, stock_known=True)])
            for i in range(n)]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_an_export_that_fails_midway_leaves_the_previous_catalogue(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "catalogue.csv"
    assert export.write_catalogue(_products(50), path) == 50
    before = path.read_bytes()
    rows_of = export._product_rows
    written = 0

    def failing(*args: Any, **kwargs: Any) -> Any:  # the disk fills up after 20 products
        nonlocal written
        written += 1
        if written > 20:
            raise OSError(28, "No space left on device")
        return rows_of(*args, **kwargs)

    monkeypatch.setattr(export, "_product_rows", failing)
    with pytest.raises(OSError):
        export.write_catalogue(_products(60), path)
    assert path.read_bytes() == before  # (the CSV held 20 rows before: a catalogue 30 products short)
    assert len(read_spreadsheet(path).products) == 50
    assert _leftovers(tmp_path) == []


def test_a_report_that_fails_midway_leaves_the_previous_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.sync import report as report_module

    path = tmp_path / "report.json"
    RunReport(run_id="r1", source="a.xlsx", target="elebne", dry_run=True, started_at="t").save(path)
    before = json.loads(path.read_text(encoding="utf-8"))

    def failing(data: Any, file: Any) -> None:
        file.write('{"run_id": ')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_module, "write_json", failing)
    monkeypatch.setattr(report_module, "ROWS_IN_FULL", -1)  # the piecewise writer, as for a large report
    with pytest.raises(OSError):
        RunReport(run_id="r2", source="b.xlsx", target="elebne", dry_run=True, started_at="t").save(path)
    assert json.loads(path.read_text(encoding="utf-8")) == before
    assert _leftovers(tmp_path) == []


def test_replace_file_keeps_permissions_follows_links_and_returns_the_writers_value(tmp_path: Path) -> None:
    target = tmp_path / "real.csv"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert replace_file(link, lambda tmp: tmp.write_text("new", encoding="utf-8")) == 3
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert _leftovers(tmp_path) == []
