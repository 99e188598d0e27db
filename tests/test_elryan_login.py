"""Elryan's login (email and password for a token) is retried like any safe call: a dropped connection, a 5xx,
a 429 with ``Retry-After``, with the shared HTTP layer's policy."""

from __future__ import annotations

from typing import Any

import pytest

from connector.http import HttpClient, TransportError
from connector.marketplaces.elryan import SANDBOX_EMAIL, SANDBOX_PASSWORD
from connector.marketplaces.elryan.client import ElryanClient

pytestmark = pytest.mark.sandbox
LOGIN = "/users/generate-token"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server(elryan_sandbox: Any) -> Any:
    return elryan_sandbox


def client(server: Any, sleeps: Sleeps, max_retries: int = 3) -> ElryanClient:
    http = HttpClient(server.api_url, sleep=sleeps, max_retries=max_retries, timeout=(2.0, 5.0))
    return ElryanClient(http, email=SANDBOX_EMAIL, password=SANDBOX_PASSWORD)


def logins(server: Any) -> list[dict[str, Any]]:
    return [r for r in server.requests_log() if r["path"].endswith(LOGIN)]


def test_a_login_dropped_once_is_retried(server: Any) -> None:
    server.add_fault(kind="drop", method="POST", path=LOGIN, count=1)
    sleeps = Sleeps()
    c = client(server, sleeps)
    assert c.search_categories() == []  # the call that needed the token went through
    assert c.logins == 1 and c.http.stats.retries == 1 and len(sleeps) == 1
    assert [r["fault"] for r in logins(server)] == ["drop", None]
    c.http.close()


@pytest.mark.parametrize("status", [429, 503])
def test_a_refused_login_honours_retry_after(server: Any, status: int) -> None:
    server.add_fault(method="POST", path=LOGIN, status=status, retry_after=4, count=2)
    sleeps = Sleeps()
    c = client(server, sleeps)
    assert c.token()
    assert len(sleeps) == 2 and all(4 <= s <= 4.4 for s in sleeps)  # Retry-After, not the backoff
    assert len(logins(server)) == 3 and c.logins == 1
    c.http.close()


def test_a_login_that_keeps_dropping_gives_up_after_the_retries(server: Any) -> None:
    server.add_fault(kind="drop", method="POST", path=LOGIN, count=10)
    sleeps = Sleeps()
    c = client(server, sleeps, max_retries=2)
    with pytest.raises(TransportError, match="after 3 attempt"):
        c.token()
    assert len(logins(server)) == 3
    c.http.close()
