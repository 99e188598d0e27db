"""`connector sandbox` on a port something already listens on (a sandbox started twice), or with a --db it
cannot open: one line naming the port or file, exit 2, no traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.cli import main


@pytest.fixture
def busy_port() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.mark.parametrize("marketplace", ["elebne", "elryan", "ecomlinx", "aleta"])
def test_a_port_in_use_is_one_line_and_exit_2(busy_port: int, marketplace: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sandbox", marketplace, "--port", str(busy_port)])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert f"error: cannot listen on 127.0.0.1:{busy_port}: Address already in use" in err
    assert "choose another --port" in err


def test_a_port_in_use_leaves_no_new_db_file_behind(busy_port: int, tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite"
    assert main(["sandbox", "elebne", "--port", str(busy_port), "--db", str(db)]) == 2
    assert not db.exists()


def test_a_db_that_cannot_be_opened_is_one_line_and_exit_2(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "no-such-folder" / "sandbox.sqlite"
    code = main(["sandbox", "elebne", "--port", "0", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2, err
    squeezed = "".join(err.split())  # the console wraps a long path anywhere
    assert "".join(f"error: sandbox --db {db}: unable to open database file".split()) in squeezed
