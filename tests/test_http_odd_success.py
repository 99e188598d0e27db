"""A success status whose body is not the JSON the marketplaces answer (a proxy's HTML page, an empty body, JSON cut
part way behind a length that says it is whole): retried within the retry budget when the request is safe to
repeat, returned at once (for the client to fail it) when it is not, since it may have been applied."""

from __future__ import annotations

import pytest

from connector.http import HttpClient
from tests.conftest import ELEBNE_KEY, SandboxHandle

PAGE = b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
ODD = {"html-page": PAGE, "empty": b"", "cut-json": b'{"success": true, "data": {"items": [{"externalId": "A'}


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(sandbox: SandboxHandle, sleeps: Sleeps, **kw: object) -> HttpClient:
    return HttpClient(sandbox.base_url, auth=lambda: {"Authorization": f"Bearer {ELEBNE_KEY}"}, sleep=sleeps,
                      timeout=(2.0, 2.0), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("body", ODD.values(), ids=ODD.keys())
def test_an_odd_success_to_a_read_is_retried_with_backoff(elebne_sandbox: SandboxHandle, body: bytes) -> None:
    elebne_sandbox.server.add_fault(method="GET", path="/inventory", kind="status", status=200, body=body, count=1)
    sleeps = Sleeps()
    http = client(elebne_sandbox, sleeps, backoff_base=0.5)
    resp = http.request("GET", "/inventory", op_class="read")
    assert resp.status_code == 200 and resp.json()["success"] is True
    assert http.stats.retries == 1 and http.stats.requests["read"] == 2
    assert len(sleeps) == 1 and 0.5 <= sleeps[0] <= 1.0  # the backoff of a first retry


def test_odd_successes_spend_the_retry_budget_then_the_last_is_returned(elebne_sandbox: SandboxHandle) -> None:
    elebne_sandbox.server.add_fault(method="GET", path="/inventory", kind="status", status=200, body=PAGE, count=10)
    http = client(elebne_sandbox, Sleeps(), max_retries=2)
    resp = http.request("GET", "/inventory", op_class="read")
    assert resp.status_code == 200 and resp.content == PAGE  # for the client to say what came back
    assert http.stats.requests["read"] == 3


def test_an_odd_success_to_a_write_is_retried_only_when_safe_to_repeat(elebne_sandbox: SandboxHandle) -> None:
    """A POST without an idempotency key may have been applied behind the page: sent once, its odd answer
    returned; with an idempotency key (which the marketplace honours) it is sent again and the answer read."""
    http = client(elebne_sandbox, Sleeps())
    before = len(elebne_sandbox.requests())
    elebne_sandbox.server.add_fault(method="POST", path="/products", kind="status", status=200, body=PAGE, count=1)
    resp = http.request("POST", "/products", op_class="write", json={"name": "x", "price": 1, "externalId": "X"})
    assert resp.status_code == 200 and resp.content == PAGE
    assert len(elebne_sandbox.requests()) == before + 1 and http.stats.retries == 0

    elebne_sandbox.server.add_fault(method="POST", path="/products", kind="status", status=200, body=PAGE, count=1)
    resp = http.request("POST", "/products", op_class="write", json={"name": "y", "price": 1, "externalId": "Y"},
                        idempotency_key="create-y")
    assert resp.status_code == 201 and resp.json()["data"]["externalId"] == "Y"
    assert http.stats.retries == 1


def test_a_success_without_a_body_to_be_json_is_not_retried(elebne_sandbox: SandboxHandle) -> None:
    """A 204 has no body, and a caller that reads something else than JSON says so."""
    elebne_sandbox.fault(method="GET", path="/inventory", kind="status", status=204, count=1)
    http = client(elebne_sandbox, Sleeps())
    assert http.request("GET", "/inventory", op_class="read").status_code == 204
    elebne_sandbox.server.add_fault(method="GET", path="/inventory", kind="status", status=200, body=PAGE, count=1)
    resp = http.request("GET", "/inventory", op_class="read", expect_json=False)
    assert resp.content == PAGE and http.stats.retries == 0
