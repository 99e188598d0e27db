"""EcomLinx's own tables in the sync state database (created on first use, ``IF NOT EXISTS``).

They sit beside the state's versioned tables without touching its schema version: the SKU -> product id map
built from the listing, when the listing was last read, SKUs found missing (re-checked only when the listing
is refreshed), and the webhook events accepted by the receiver.
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS ecomlinx_sku_map (
    account TEXT NOT NULL, sku TEXT NOT NULL, product_id TEXT NOT NULL, duplicate_ids TEXT,
    PRIMARY KEY (account, sku)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ecomlinx_listing (
    account TEXT PRIMARY KEY, refreshed_at TEXT NOT NULL, products INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ecomlinx_missing (
    account TEXT NOT NULL, sku TEXT NOT NULL, first_seen TEXT NOT NULL, last_checked TEXT NOT NULL,
    PRIMARY KEY (account, sku)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ecomlinx_webhook_events (
    event_key TEXT PRIMARY KEY, event TEXT NOT NULL, created_at TEXT, received_at TEXT NOT NULL,
    body TEXT NOT NULL, deliveries INTEGER NOT NULL DEFAULT 1, processed_at TEXT
) WITHOUT ROWID;
"""


def ensure_tables(conn: sqlite3.Connection) -> None:
    """Create the EcomLinx tables if they are not there yet (idempotent, cheap)."""
    for stmt in SCHEMA.split(";"):
        if stmt.strip():
            conn.execute(stmt)
