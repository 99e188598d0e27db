"""A problem in a mapping that another one extends is reported with the file that holds it (and its line),
not with the extending file's name and a line that, there, holds something else."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main

BAD_OP = "extends: elebne\npayloads:\n  product:\n    fields:\n      name: {copy: product.name, ops: [shout]}\n"
TYPO = "extends: elebne\npayloads:\n  product:\n    feilds: {}\n"
FINE = "extends: elebne\npayloads:\n  product:\n    fields:\n      description: {copy: product.description}\n"


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["mapping", "check", str(path)])
    captured = capsys.readouterr()
    return code, "".join((captured.out + captured.err).split())  # the console wraps long paths anywhere


@pytest.mark.parametrize(("base_text", "line", "said"), [
    (BAD_OP, 5, "payloads.product.fields.name.ops[0]:unknownoperation'shout'"),
    (TYPO, 4, "payloads.product.feilds:unknownkey(atypo?)"),
])
def test_a_problem_of_the_base_names_the_base_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   base_text: str, line: int, said: str) -> None:
    (tmp_path / "base.yaml").write_text(base_text, encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: base.yaml\npayloads:\n  product:\n    fields:\n      brand: null\n", encoding="utf-8")
    code, text = check(mine, capsys)
    assert code == 2, text
    assert f"{tmp_path / 'base.yaml'}:{line}:{said}" in text
    assert "mine.yaml" not in text


def test_a_problem_of_the_extending_file_names_that_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "base.yaml").write_text(FINE, encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: base.yaml\npayloads:\n  product:\n    fields:\n"
                    "      name: {copy: product.nmae}\n", encoding="utf-8")
    code, text = check(mine, capsys)
    assert code == 2, text
    assert f"{mine}:5:payloads.product.fields.name:producthasnofield'nmae'" in text


@pytest.mark.parametrize("text", ["extends: elryan\n", "extends: elebne\nmarketplace: ecomlinx\n"])
def test_a_mapping_of_another_marketplace_sends_nothing_and_exits_2(tmp_path: Path, text: str,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A real run (not a dry run) to an address nobody answers: any attempt to send would end in exit 4."""
    from connector.shipped import sample_workbook

    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_not_used")
    mine = tmp_path / "mine.yaml"
    mine.write_text(text, encoding="utf-8")
    code = main(["sync", "--source", str(sample_workbook()), "--target", "elebne", "--mapping", str(mine),
                 "--state", str(tmp_path / "state.sqlite"), "--base-url", "http://127.0.0.1:9",
                 "--no-progress", "--report", str(tmp_path / "report.json")])
    err = "".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert f"{mine}:marketplace:thismappingisfor" in err and "notforthetarget'elebne'" in err


def test_a_loop_of_extends_is_named_as_a_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n", encoding="utf-8")
    (tmp_path / "self.yaml").write_text("extends: self.yaml\n", encoding="utf-8")
    code, text = check(tmp_path / "a.yaml", capsys)
    assert code == 2 and "extends:'extends'names'a.yaml',whichleadsbacktothisfile(aloop)" in text, text
    code, text = check(tmp_path / "self.yaml", capsys)
    assert code == 2 and f"{tmp_path / 'self.yaml'}:1:extends:" in text and "(aloop)" in text, text


def test_a_profiles_later_target_with_another_marketplaces_mapping_stops_the_run_before_any_target_sends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The check ran as each target planned: EcomLinx, first in the profile, was pushed, then the Elebne target's
    mapping was refused with exit 2, which the README says means nothing was sent.  Every target's mapping is now
    loaded and checked before the source is read."""
    from tests.conftest import running_ecomlinx

    src = tmp_path / "p.csv"
    src.write_text("SKU,Name,Price,Stock\nA-1,Soap,12,3\nA-2,Cup,5,4\n", encoding="utf-8")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("extends: ecomlinx\nmarketplace: ecomlinx\n", encoding="utf-8")
    with running_ecomlinx(tmp_path / "ecx.sqlite", listed=["A-1", "A-2"]) as ecx:
        profile = tmp_path / "shop.yaml"
        profile.write_text(
            f"source: {src}\nstate: {tmp_path / 's.sqlite'}\ntargets:\n"
            f"  ecomlinx:\n    base_url: {ecx.url}/v1\n"
            f"  elebne:\n    base_url: http://127.0.0.1:9\n    mapping: {wrong}\n", encoding="utf-8")
        monkeypatch.setenv("ELEBNE_API_KEY", "pk_test_demo0000connector")
        monkeypatch.setenv("ECOMLINX_API_KEY", "elx_test_sk_scale0000connector")
        monkeypatch.setenv("CONNECTOR_CREDENTIALS", str(tmp_path / "none.yaml"))
        code = main(["sync", "--profile", str(profile), "--no-progress"])
        err = "".join(capsys.readouterr().err.split())
        assert code == 2, err
        assert "notforthetarget'elebne'" in err
        assert [r for r in ecx.requests_log() if r["method"] != "GET"] == []
