"""JSON-2: a gateway's error answered in JSON (Kong, AWS API Gateway: ``{"message": "..."}``, no Odoo ``name``) is
not Odoo refusing the call.  A 504 on a ``create`` may come after Odoo created the records: it must never read as
a refusal (``OdooRPCError``), which the orders' batches answer by sending the records again one by one."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from connector.errors import SourceError
from connector.orders.odoo.batch import create_page
from connector.sources.odoo.backend import OdooRPCError
from connector.sources.odoo.json2_backend import Json2Backend
from connector.sources.odoo.settings import OdooSettings


class _Session(requests.Session):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__()
        self.status, self.body, self.posts = status, body, []

    def post(self, url: str, **kw: Any) -> requests.Response:  # type: ignore[override]
        self.posts.append((url, kw.get("json")))
        resp = requests.Response()
        resp.status_code = self.status
        resp._content = json.dumps(self.body).encode()
        resp.headers["Content-Type"] = "application/json"
        return resp


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_gateways_json_error_on_create_is_not_a_refusal_nor_sent_again(status: int) -> None:
    session = _Session(status, {"message": "The upstream server is timing out"})
    backend = Json2Backend(OdooSettings(url="http://odoo.test", db="shop", backend="json2", retries=0), "key",
                           session=session)
    with pytest.raises(SourceError) as exc:
        create_page(backend, "sale.order", [{"name": "A"}, {"name": "B"}], lambda: None)
    assert not isinstance(exc.value, OdooRPCError)
    assert len(session.posts) == 1  # never sent again, one by one


def test_odoos_own_refusal_is_still_a_refusal() -> None:
    session = _Session(422, {"name": "odoo.exceptions.UserError", "message": "no"})
    backend = Json2Backend(OdooSettings(url="http://odoo.test", db="shop", backend="json2", retries=0), "key",
                           session=session)
    with pytest.raises(OdooRPCError):
        backend.call("sale.order", "create", [], {"vals_list": [{}]})
