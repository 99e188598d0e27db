"""Running as a service: jobs on procrastinate (a PostgreSQL task queue) over the same database as the state.

- ``queue.py``: the database URL, the procrastinate app (its tables in the schema ``connector_queue``) and
  ``connector service migrate``;
- ``kinds.py``: what a job of each kind runs (catalogue, stock, watch; orders and fulfilment plug in there);
- ``jobs.py``: one job per (profile, target, kind), locked per marketplace account, and its history;
- ``schedule.py``: cron schedules per profile and target, enqueued by a periodic task;
- ``worker.py``: ``connector worker`` and the retry of jobs whose worker died;
- ``watch.py``: near-real-time stock from Odoo (one cheap call per idle poll);
- ``status.py``: ``connector status``;
- ``commands.py``: the command-line entry points.
"""
