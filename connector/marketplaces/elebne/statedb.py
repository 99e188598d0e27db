"""Elebne's own tables in the sync state: the webhook events the receiver accepted (the shared table)."""

from __future__ import annotations

from connector.sync.state import PluginSchema
from connector.webhooks.receiver import EVENTS_TABLE

TABLES = PluginSchema("elebne", {1: (EVENTS_TABLE,)})
