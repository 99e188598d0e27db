"""Marketplace webhooks, shared by every marketplace that sends them (EcomLinx, Elebne).

- ``signature.py``: the HMAC of a raw body, signed and verified (constant time);
- ``receiver.py``: the HTTP receiver (bounded connections and request times, size limit, JSON only), what a
  marketplace's deliveries look like (``WebhookScheme``: header, algorithm, event and id fields, replay window)
  and the store that keeps each delivery once (``EventStore``, a plugin table of the sync state);
- ``serve_cli.py``: ``connector webhooks serve [--marketplace elebne]``.

The sandboxes' side (signed POSTs to registered URLs) is ``connector/sandbox/webhooks.py``.
"""
