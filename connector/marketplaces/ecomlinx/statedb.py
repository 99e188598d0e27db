"""EcomLinx's own tables in the sync state, declared as the plugin's migrations.

The SKU -> product id map built from the listing, when the listing was last read, SKUs found missing
(re-checked only when the listing is refreshed), and the webhook events accepted by the receiver.  Files
written before these tables were versioned already hold them with the same columns: version 1 creates them
only where they are missing, so their rows carry over.
"""

from __future__ import annotations

from connector.sync.state import Column, PluginSchema, Table

TABLES = PluginSchema("ecomlinx", {
    1: (
        Table("sku_map", (Column("account"), Column("sku"), Column("product_id"),
                          Column("duplicate_ids", nullable=True)), key=("account", "sku")),
        Table("listing", (Column("account"), Column("refreshed_at"), Column("products", "integer")),
              key=("account",)),
        Table("missing", (Column("account"), Column("sku"), Column("first_seen"), Column("last_checked")),
              key=("account", "sku")),
        Table("webhook_events", (Column("event_key"), Column("event"), Column("created_at", nullable=True),
                                 Column("received_at"), Column("body"), Column("deliveries", "integer", default=1),
                                 Column("processed_at", nullable=True)), key=("event_key",)),
    ),
})
