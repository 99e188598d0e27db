"""vcrpy set-up shared by cassette tests: record mode ``none`` in CI, scrubbing, JSON-normalised matching.

Recording is explicit: ``CONNECTOR_RECORD=1`` (see README, "Recording cassettes").
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import vcr

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
RECORDING = os.environ.get("CONNECTOR_RECORD") == "1"

SECRET_HEADERS = ("authorization", "cookie", "set-cookie", "x-api-key", "api-key")
SECRET_QUERY = re.compile(r"(api_key|apikey|access_token|token|key)=[^&]+", re.I)


def _scrub_request(request: Any) -> Any:
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            del request.headers[name]
    request.uri = SECRET_QUERY.sub(r"\1=***", request.uri)
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS or name.lower() == "date":
            del headers[name]
    return response


def _json_body(r1: Any, r2: Any) -> None:
    def norm(body: Any) -> Any:
        if not body:
            return None
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        try:
            return json.loads(body)
        except ValueError:
            return body

    assert norm(r1.body) == norm(r2.body), "request bodies differ"


def make_vcr(subdir: str, rewrite_base: tuple[str, str] | None = None) -> vcr.VCR:
    """A VCR for ``cassettes/<subdir>``.  ``rewrite_base`` = (recorded base URL, canonical base URL)."""

    def before_record_request(request: Any) -> Any:
        request = _scrub_request(request)
        if rewrite_base and request.uri.startswith(rewrite_base[0]):
            request.uri = rewrite_base[1] + request.uri[len(rewrite_base[0]):]
        return request

    v = vcr.VCR(
        cassette_library_dir=str(CASSETTES / subdir),
        record_mode="all" if RECORDING else "none",
        match_on=("method", "path", "query", "json_body"),
        before_record_request=before_record_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
    v.register_matcher("json_body", _json_body)
    return v
