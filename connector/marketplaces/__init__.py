"""Marketplace plugins (client, sandbox, default mapping, limits), found through entry points."""
