"""Fulfilment and cancellations back: what shipped or was cancelled in the merchant's system (Odoo, the orders
workbook) is sent to the marketplace each order came from, exactly once (issue 14).

``model``: the canonical progress of an order as the source sees it; ``source``: what a fulfilment source
provides; ``writer``: what a marketplace's fulfilment writer provides, and the step log that makes each call
exactly once."""
