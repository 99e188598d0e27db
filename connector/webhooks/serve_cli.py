"""``connector webhooks serve [--marketplace ecomlinx|elebne]``: the shared receiver on a port, events stored in
the state database and, with ``--enqueue-profile``, turned into jobs for the workers (issue 15).

The signing secret comes from ``<MARKETPLACE>_WEBHOOK_SECRET`` (or ``--secret-env NAME``): secrets are never
command-line arguments, which any user of the machine can read in the process list.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from connector.errors import EXIT_OK, ConfigError
from connector.sync.state.location import shown, state_location

MARKETPLACES = ("ecomlinx", "elebne")


def secret_env(marketplace: str) -> str:
    return f"{marketplace.upper()}_WEBHOOK_SECRET"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from connector.cli import port_number  # here: cli imports this module when the command runs

    p.add_argument("--marketplace", choices=MARKETPLACES, default="ecomlinx",
                   help="whose deliveries to receive (default ecomlinx)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port_number, default=8788)
    p.add_argument("--path", help="the URL path (default /hooks/<marketplace>)")
    p.add_argument("--state", type=state_location, help="state database the events are stored in "
                                              "(default: the default sync state file)")
    p.add_argument("--max-body", type=int, default=256 * 1024, help="largest accepted body in bytes")
    p.add_argument("--max-connections", type=int, default=32,
                   help="connections served at once; the ones beyond are answered 503 (default 32)")
    p.add_argument("--request-timeout", type=float, default=30.0,
                   help="seconds a sender has to deliver a whole request before it is dropped (default 30)")
    p.add_argument("--secret-env", help="environment variable holding the signing secret "
                                        "(default ECOMLINX_WEBHOOK_SECRET / ELEBNE_WEBHOOK_SECRET)")
    p.add_argument("--enqueue-profile", type=Path, metavar="PROFILE",
                   help="queue an order pull and a stock push of this profile's target on the marketplace for each "
                        "order event (service mode: connector worker runs them; the queue is --db); Elebne: its "
                        "target's settings.webhooks apply")
    p.add_argument("--db", help="the service's PostgreSQL database (default: $CONNECTOR_STATE_URL)")


def _store_and_handler(args: argparse.Namespace, state_path: Any) -> tuple[Any, Any]:
    """The marketplace's event store and, in service mode, the handler that queues jobs."""
    enqueue = None
    if args.enqueue_profile is not None:
        from connector.service.queue import service_url
        from connector.service.webhooks import enqueue_handler

        url = service_url(args.db)

        def enqueue(**options: Any) -> Any:
            return enqueue_handler(url, args.enqueue_profile, args.marketplace, **options)
    if args.marketplace == "elebne":
        from connector.marketplaces.elebne import webhooks as elebne

        settings = elebne.webhook_settings(_target_settings(args.enqueue_profile, "elebne"))
        handler = enqueue and enqueue(kinds_of=elebne.job_kinds(settings),
                                      event_field=elebne.scheme(settings).event_field)
        return elebne.EventStore(state_path, settings), handler
    from connector.marketplaces.ecomlinx.webhooks import EventStore

    handler = enqueue and enqueue()
    return EventStore(state_path), handler


def _target_settings(profile: Path | None, target: str) -> dict[str, Any]:
    if profile is None:
        return {}
    from connector.config import load_profile

    loaded = load_profile(profile)
    if target not in loaded.targets:
        raise ConfigError(f"profile {profile} has no target {target!r}: the webhook's jobs need it")
    return dict(loaded.targets[target].settings or {})


def serve(args: argparse.Namespace) -> int:
    from connector.config import default_state_file
    from connector.console import out
    from connector.webhooks.receiver import DEFAULT_READ_TIMEOUT, WebhookReceiver

    env = args.secret_env or secret_env(args.marketplace)
    secret = os.environ.get(env)
    if not secret:
        raise ConfigError(f"set {env} to the webhook signing secret (the one given at registration)")
    if args.max_body < 1:
        raise ConfigError("--max-body must be a positive number of bytes")
    if args.max_connections < 1:
        raise ConfigError("--max-connections must be at least 1")
    if not args.request_timeout > 0:
        raise ConfigError("--request-timeout must be a positive number of seconds")
    if args.path is not None and not args.path.startswith("/"):
        raise ConfigError(f"--path must start with '/' (e.g. /hooks/{args.marketplace}), not {args.path!r}")
    state_path = args.state or default_state_file()
    store, handler = _store_and_handler(args, state_path)
    try:
        receiver = WebhookReceiver(secret, store, host=args.host, port=args.port, path=args.path, handler=handler,
                                   max_body_bytes=args.max_body, max_connections=args.max_connections,
                                   request_timeout=args.request_timeout,
                                   read_timeout=min(DEFAULT_READ_TIMEOUT, args.request_timeout))
    except OSError as exc:
        store.close()
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    out.print(f"receiving {store.scheme.title} webhooks on {receiver.url} (events stored in {shown(state_path)}; "
              "Ctrl-C to stop)")
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
        counts = receiver.counts
        out.print(f"stopped: {counts['accepted']} accepted, {counts['duplicate']} duplicate(s), {counts['refused']} "
                  f"refused, {counts['busy']} turned away (too many connections), {counts['dropped']} dropped (slow)")
    return EXIT_OK
