"""Running as a service: jobs on procrastinate (a PostgreSQL task queue) over the same database as the state.

- ``queue.py``: the database URL, the procrastinate app (its tables in the schema ``connector_queue``) and
  ``connector service migrate``;
- ``kinds.py``: what a job of each kind runs (catalogue, stock, watch, orders, fulfilment);
- ``jobs.py``: one job per (profile, target, kind), locked per marketplace account, and its history;
- ``schedule.py``: cron schedules per profile and target, enqueued by a periodic task;
- ``worker.py``: ``connector worker``, its graceful stop and the retry of jobs whose worker died;
- ``watch.py``: near-real-time stock from Odoo (one cheap call per idle poll);
- ``webhooks.py``: marketplace webhooks (the receiver of ``connector/webhooks/``) into jobs;
- ``status.py``: ``connector status``;
- ``commands.py``: the command-line entry points.
"""
