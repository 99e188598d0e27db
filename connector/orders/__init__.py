"""Orders: marketplace orders read into canonical ``Order`` records, imported into a destination (Odoo or the
merchant's orders workbook), and the open quantities reserved in the stock push (issue "Orders in").

- ``model``: the canonical order (the only thing order readers produce and destinations consume);
- ``reader``: what a marketplace's order reader provides, and the incremental pull (cursor, overlap, lookback);
- ``book``: the orders the state remembers (last seen version of each order, which destination imported it);
- ``outcome``: how each order ended in a run (imported, unchanged, needs attention, failed);
- ``destination``: what an order destination provides.
"""
