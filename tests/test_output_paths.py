"""Every file the CLI writes (error copy, export, template, --report) is checked before anything is read or sent:
a folder, a folder that does not exist, the input workbook or the state file end in exit 2 with a message,
never in a traceback or an overwritten input."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from tests.test_spreadsheet_read import write_xlsx


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def bad_workbook(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "p.xlsx", {"Products": [["SKU", "Name", "Price"], ["A", "a", "x"]]})


@pytest.mark.parametrize("where", ["folder.xlsx", "missing/errors.xlsx"])
def test_errors_copy_to_a_folder_or_a_missing_folder_is_refused(tmp_path: Path, bad_workbook: Path, capsys,
                                                                where: str) -> None:
    (tmp_path / "folder.xlsx").mkdir()
    assert main(["validate", str(bad_workbook), "--errors-copy", str(tmp_path / where)]) == 2
    err = flat(capsys.readouterr().err)
    assert "Traceback" not in err and ("is a folder" in err or "does not exist" in err)


@pytest.mark.parametrize("name", ["t.csv", "t.txt"])
def test_template_refuses_a_name_that_is_not_a_workbook(tmp_path: Path, capsys, name: str) -> None:
    assert main(["template", "-o", str(tmp_path / name)]) == 2
    assert ".xlsx" in flat(capsys.readouterr().err)
    assert not (tmp_path / name).exists()


def test_template_into_a_missing_folder_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["template", "-o", str(tmp_path / "missing" / "t.xlsx")]) == 2
    assert "does not exist" in flat(capsys.readouterr().err)


def test_report_over_the_input_workbook_or_the_state_file_is_refused(tmp_path: Path, capsys) -> None:
    src = tmp_path / "p.csv"
    src.write_text("SKU,Name,Price\nA,Tea,2\n", encoding="utf-8")
    before = src.read_bytes()
    state = tmp_path / "s.sqlite"
    base = ["sync", "--source", str(src), "--target", "elebne", "--dry-run", "--no-progress", "--state", str(state)]
    assert main([*base, "--report", str(src)]) == 2
    assert "is the input file" in flat(capsys.readouterr().err)
    assert src.read_bytes() == before
    assert main([*base, "--report", str(state)]) == 2
    assert "is the input file" in flat(capsys.readouterr().err)
    (tmp_path / "folder").mkdir()
    assert main([*base, "--report", str(tmp_path / "folder")]) == 2
    assert "is a folder" in flat(capsys.readouterr().err)


@pytest.mark.parametrize("locations", ["A/B", "[x]", "x" * 40, "Main,Main"])
def test_template_refuses_a_location_its_sheet_name_would_change(tmp_path: Path, capsys, locations: str) -> None:
    """'A/B' became the sheet 'Stock - A B' (location 'A B') while the command said "stock sheets: A/B"; '[x]'
    was swallowed by the console's markup."""
    out = tmp_path / "t.xlsx"
    assert main(["template", "-o", str(out), "--locations", locations]) == 2
    assert "stock location(s)" in flat(capsys.readouterr().err)
    assert not out.exists()


def test_template_prints_the_locations_it_wrote(tmp_path: Path, capsys) -> None:
    assert main(["template", "-o", str(tmp_path / "t.xlsx"), "--locations", "Entrepôt,Boutique"]) == 0
    assert "stock sheets: Entrepôt, Boutique" in flat(capsys.readouterr().out)


def test_report_over_the_profile_or_the_mapping_is_refused(tmp_path: Path, capsys) -> None:
    src = tmp_path / "p.csv"
    src.write_text("SKU,Name,Price\nA,Tea,2\n", encoding="utf-8")
    mapping = tmp_path / "mine.yaml"
    mapping.write_text("extends: elebne\n", encoding="utf-8")
    profile = tmp_path / "shop.yaml"
    profile.write_text(f"source: {src}\nstate: {tmp_path / 's.sqlite'}\ntargets:\n  elebne:\n    mapping: {mapping}\n",
                       encoding="utf-8")
    before = profile.read_bytes(), mapping.read_bytes()
    for victim in (profile, mapping):
        assert main(["sync", "--profile", str(profile), "--dry-run", "--no-progress", "--report", str(victim)]) == 2
        assert "is the input file" in flat(capsys.readouterr().err)
    assert (profile.read_bytes(), mapping.read_bytes()) == before


def test_template_never_replaces_an_existing_workbook_without_force(tmp_path: Path, bad_workbook: Path,
                                                                   capsys) -> None:
    """Running the README's first command again must not blank the catalogue the merchant filled in."""
    before = bad_workbook.read_bytes()
    assert main(["template", "-o", str(bad_workbook)]) == 2
    assert "--force" in flat(capsys.readouterr().err)
    assert bad_workbook.read_bytes() == before
    assert main(["template", "-o", str(bad_workbook), "--force"]) == 0
    assert bad_workbook.read_bytes() != before
