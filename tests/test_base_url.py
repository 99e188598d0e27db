"""A base URL that cannot be an API's address (a typo on the command line or in a profile) is exit 2 before
anything is read or sent, dry run included, and a password in it is never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import ConfigError
from connector.http import HttpClient


@pytest.mark.parametrize("url", ["notaurl", "ftp://127.0.0.1/x", "http://127.0.0.1:99999/x", "http://127.0.0.1:0/x",
                                 "http://user:s3cretpw@127.0.0.1/api", "http://127.0.0.1/api?key=1", "https://"])
def test_a_base_url_that_is_no_api_address_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="is not an API address") as caught:
        HttpClient(url)
    assert "s3cretpw" not in str(caught.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8787/api/v1/dev/store", "https://api.elebne.com/api/v1/store/",
                                 "HTTPS://merchantstaging.elryan.com/api"])
def test_ordinary_base_urls_are_accepted(url: str) -> None:
    assert HttpClient(url).base_url == url.rstrip("/")


@pytest.mark.parametrize("dry_run", [True, False])
def test_sync_with_a_bad_base_url_is_exit_2_without_a_traceback(tmp_path: Path, capsys, monkeypatch,
                                                                 dry_run: bool) -> None:
    monkeypatch.setenv("ELEBNE_API_KEY", "sk_test_demo0000connector")
    src = tmp_path / "p.csv"
    src.write_text("SKU,Name,Price\nA,Tea,2\n", encoding="utf-8")
    args = ["sync", "--source", str(src), "--target", "elebne", "--base-url", "notaurl", "--no-progress",
            "--state", str(tmp_path / "s.sqlite")]
    assert main(args + (["--dry-run"] if dry_run else [])) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "is not an API address" in err and "Traceback" not in err
