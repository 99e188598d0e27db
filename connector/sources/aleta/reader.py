"""One read of the Aleta catalogue: products (all, or what changed), then stock for every SKU."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from connector.config import load_secret
from connector.errors import ConfigError
from connector.sources.aleta.client import AletaAnswerError, AletaClient
from connector.sources.aleta.convert import (
    ORIGIN,
    ConvertOptions,
    apply_stock,
    convert_products,
    location_names,
    raw_skus,
    zero_stock,
)
from connector.sources.aleta.incremental import CURSOR_NAME, SNAPSHOT_NAME, Snapshot, next_cursor, plan_read
from connector.sources.aleta.settings import STATUSES, AletaSettings
from connector.sources.base import SourceResult
from connector.sources.checks import drop_invalid_barcodes, refuse_invalid_barcodes

log = logging.getLogger("connector.sources.aleta")

SUPPORTED_MAJOR = "1"
PROVIDED_FIELDS = {"sku", "name", "brand", "category_path", "price", "cost", "barcode", "weight", "active", "images",
                   "attributes", "stock"}


class AletaSource:
    """``AletaSource(settings, client).read(state, full)`` -> ``SourceResult`` (cursors not yet stored)."""

    def __init__(self, settings: AletaSettings, client: AletaClient) -> None:
        self.settings = settings
        self.client = client
        self.version: str | None = None
        self.read_plan_reason = ""

    @classmethod
    def connect(cls, settings: AletaSettings, api_key: str | None = None) -> AletaSource:
        key = api_key or load_secret("aleta", settings.api_key_env)
        if not key:
            raise ConfigError(f"no Aleta API key: set {settings.api_key_env} in the environment "
                              "(or 'aleta: {api_key: ...}' in the credentials file, see README)")
        client = AletaClient.connect(settings.api_base, key, auth=settings.auth, timeout=settings.timeout,
                                     max_retries=settings.max_retries, stock_url_limit=settings.stock_url_limit)
        return cls(settings, client)

    def close(self) -> None:
        self.client.close()

    def read(self, state: Any = None, full: bool = True) -> SourceResult:
        s = self.settings
        started = datetime.now(UTC)
        result = SourceResult(provided_fields=set(PROVIDED_FIELDS))
        health = self.client.health()
        self.version = str(health.get("version") or "")
        if self.version and self.version.split(".")[0] != SUPPORTED_MAJOR:
            result.warnings.append(f"Aleta API version {self.version}: this connector was written for "
                                   f"{SUPPORTED_MAJOR}.x; check the results")
        names, chosen = self._locations()

        cursor = snapshot_text = None
        if state is not None:
            cursor = state.get_cursor(s.cursor_source, CURSOR_NAME)
            snapshot_text = state.get_cursor(s.cursor_source, SNAPSHOT_NAME)
        plan = plan_read(cursor, snapshot_text, s.filters(), full=full, overlap_seconds=s.overlap_seconds)
        self.read_plan_reason = plan.reason
        filters = {"vendor": s.vendor, "sku": s.sku, "limit": s.page_limit}
        previous = dict(plan.snapshot.products) if plan.snapshot else {}
        withdrawn: dict[str, dict[str, Any]] = {}
        if plan.incremental:
            docs = dict(previous)
            for doc in self.client.products(status=s.status, updated_since=plan.since, **filters):
                docs[str(doc.get("id"))] = doc
            for other in (st for st in STATUSES if st != s.status):
                for doc in self.client.products(status=other, updated_since=plan.since, **filters):
                    pid = str(doc.get("id"))
                    if pid in docs:
                        withdrawn[pid] = {**docs.pop(pid), **doc}
        else:
            docs = {str(doc.get("id")): doc for doc in self.client.products(status=s.status, **filters)}
            withdrawn = {pid: doc for pid, doc in previous.items() if pid not in docs}
            self._confirm_withdrawn(withdrawn)

        opts = ConvertOptions(price=s.price, cost_field=s.cost_field, currency=s.currency,
                              option_names=tuple(s.option_names), product_key=s.product_key)
        seen: dict[str, str] = {}
        current = convert_products(docs.values(), opts, seen_skus=seen)
        gone = convert_products(withdrawn.values(), opts, force_inactive=withdrawn.keys(), seen_skus=seen)
        refuse_invalid_barcodes(current.products, current.issues, current.rows, ORIGIN)
        drop_invalid_barcodes(gone.products)
        padded = raw_skus(current.products)
        skus = [v.sku for p in current.products for v in p.variants]
        rows = self.client.stock([sku for sku in skus if sku not in padded],
                                 location_id=next(iter(chosen)) if chosen and len(chosen) == 1 else None)
        for sku in skus:  # a SKU with spaces around it: its stock row is keyed by Aleta's own spelling
            row = self.client.stock_one(padded[sku]) if sku in padded else None
            if row is not None:
                rows.append(row)
        missing = apply_stock(current.products, rows, chosen=chosen, names=names, missing_stock=s.missing_stock,
                              out=current)
        zero_stock(gone.products)
        if missing:
            what = "listed as 0" if s.missing_stock == "zero" else "left unchanged on the marketplaces"
            result.warnings.append(f"{len(missing)} SKU(s) have no stock row at Aleta (stock {what}), "
                                   f"e.g. {', '.join(missing[:5])}")
        if gone.products:
            result.warnings.append(f"{len(gone.products)} product(s) no longer offered by Aleta (status not "
                                   f"'{s.status}' or removed): disabled, stock 0")
        if self.client.stats.cached_responses:
            result.warnings.append(f"{self.client.stats.cached_responses} Aleta response(s) came from its cache "
                                   f"(up to {self.client.stats.max_cache_age}s old); the next run reads them again")
        result.held_keys |= current.held  # (a withdrawn product's skipped variant does not keep it on sale)
        for part in (current, gone):
            result.products.extend(part.products)
            result.issues.extend(part.issues)
            result.rows.extend(part.rows)
            result.sku_unread_rows.extend(part.sku_unread)
        snapshot = Snapshot(filters=s.filters(), products=docs)
        result.cursors = {
            (s.cursor_source, CURSOR_NAME): next_cursor(self.client.stats.data_as_of, started),
            (s.cursor_source, SNAPSHOT_NAME): snapshot.encode(),
        }
        result.full_read = True  # issue 12: incremental reads add the changes to the snapshot: always whole
        log.info("aleta: %s; %d product(s), %d request(s)", plan.reason, len(result.products),
                 self.client.stats.total)
        return result

    def _confirm_withdrawn(self, withdrawn: dict[str, dict[str, Any]]) -> None:
        """Ask ``GET /products/{sku}`` about each product a full read no longer listed (the last listed first):
        one Aleta still gives with the listed status means the listing ended early (a page saying
        ``has_next_page: false`` too soon, which its paging fields cannot show); taken for withdrawn, it would be
        disabled and zeroed.  Not done with a ``vendor`` or ``sku`` filter (a product may leave it while active)."""
        s = self.settings
        if s.vendor or s.sku or not s.status:
            return
        for pid, doc in reversed(withdrawn.items()):
            sku = next((v["sku"] for v in doc.get("variants") or []
                        if isinstance(v, dict) and isinstance(v.get("sku"), str) and v["sku"].strip()), None)
            now = self.client.product(sku) if sku is not None else None
            if now is not None and str(now.get("id")) == pid and str(now.get("status") or "").lower() == s.status:
                raise AletaAnswerError(
                    f"Aleta's listing of {s.status} products ended without product '{doc.get('handle') or pid}', "
                    f"which GET /products/{{sku}} still gives as {s.status} (SKU {sku!r}): the listing was cut "
                    "short; nothing is taken as removed")

    def _locations(self) -> tuple[dict[str, str], set[str] | None]:
        """Location id -> stock key, and the ids that count (``None``: all)."""
        locations = self.client.locations()
        names = location_names(locations)
        if not self.settings.locations:
            return names, None
        chosen: set[str] = set()
        for wanted in self.settings.locations:
            match = [lid for lid, name in names.items()
                     if wanted == lid or wanted.casefold() == name.casefold()
                     or any(wanted.casefold() == str(loc.get("name", "")).casefold()
                            for loc in locations if str(loc.get("id")) == lid)]
            if not match:
                known = ", ".join(f"{name} ({lid})" for lid, name in names.items()) or "none"
                raise ConfigError(f"aleta setting 'locations': no active location '{wanted}' (Aleta has: {known})")
            chosen.update(match)
        return names, chosen
