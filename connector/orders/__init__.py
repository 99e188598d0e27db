"""Orders: marketplace orders read into canonical ``Order`` records, imported into a destination (Odoo or the
merchant's orders workbook), and the open quantities reserved in the stock push (issue "Orders in").

- ``model``: the canonical order (the only thing order readers produce and destinations consume);
- ``reader``: what a marketplace's order reader provides, and the incremental pull (cursor, overlap, lookback);
- ``book``: the orders the state remembers (last seen version of each order, which destination imported it);
- ``outcome``: how each order ended in a run (imported, unchanged, needs attention, failed);
- ``destination``: what an order destination provides;
- ``run``: the orders flow over each marketplace's ``TargetSession`` (pull, remember, hand on, cursor);
- ``workbook``: the merchant's orders workbook (.xlsx / .csv) as a destination; ``odoo``: Odoo as one;
- ``reservation``: the oversell guard's quantities (open orders the source does not account for yet);
- ``profile``: a profile's ``orders:`` section put to work (targets, destination, reservation);
- ``summary``: what the console shows of an orders run.
"""
