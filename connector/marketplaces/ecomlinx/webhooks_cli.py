"""``connector webhooks register|list|delete|serve`` (wired in connector/cli.py).

The API key comes from ``ECOMLINX_API_KEY`` (or the credentials file), the webhook secret from
``ECOMLINX_WEBHOOK_SECRET`` (or ``--secret-env NAME``): secrets are never command-line arguments, which any
user of the machine can read in the process list.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from connector.errors import EXIT_OK, EXIT_USAGE, ConfigError, MarketplaceUnreachable
from connector.sync.state.location import shown, state_location

SECRET_ENV = "ECOMLINX_WEBHOOK_SECRET"


def _parser(action: str) -> argparse.ArgumentParser:
    from connector.cli import port_number  # here: cli imports this module when the command runs

    p = argparse.ArgumentParser(prog=f"connector webhooks {action}")
    if action in ("register", "list", "delete"):
        p.add_argument("--base-url", help="EcomLinx API base URL (default: the real API; a sandbox for tests)")
        p.add_argument("--json", action="store_true", help="print the answer as JSON")
    if action == "register":
        p.add_argument("--url", required=True, help="HTTPS URL EcomLinx will POST events to")
        p.add_argument("--events", required=True,
                       help="comma-separated event names, e.g. order.new,inventory.low")
        p.add_argument("--secret-env", default=SECRET_ENV,
                       help=f"environment variable holding the signing secret (default {SECRET_ENV})")
    elif action == "delete":
        p.add_argument("webhook_id")
    elif action == "serve":
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=port_number, default=8788)
        p.add_argument("--path", default="/hooks/ecomlinx")
        p.add_argument("--state", type=state_location, help="state database the events are stored in "
                                                  "(default: the default sync state file)")
        p.add_argument("--max-body", type=int, default=256 * 1024, help="largest accepted body in bytes")
        p.add_argument("--max-connections", type=int, default=32,
                       help="connections served at once; the ones beyond are answered 503 (default 32)")
        p.add_argument("--request-timeout", type=float, default=30.0,
                       help="seconds a sender has to deliver a whole request before it is dropped (default 30)")
        p.add_argument("--secret-env", default=SECRET_ENV,
                       help=f"environment variable holding the signing secret (default {SECRET_ENV})")
        p.add_argument("--enqueue-profile", type=Path, metavar="PROFILE",
                       help="queue an order pull and a stock push of this profile's ecomlinx target for each order "
                            "event (service mode: connector worker runs them; the queue is --db)")
        p.add_argument("--db", help="the service's PostgreSQL database (default: $CONNECTOR_STATE_URL)")
    return p


def run(action: str, argv: list[str]) -> int:
    """Entry point of ``connector webhooks ACTION ...``; returns the exit code."""
    parser = _parser(action)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    if action == "serve":
        return _serve(args)
    from connector.http import TransportError
    from connector.marketplaces.ecomlinx.errors import EcomLinxError, Forbidden, Unauthorized

    client = _client(args.base_url)
    try:
        if action == "list":
            hooks = client.list_webhooks()
            _show(args.json, hooks, [f"{h.get('id')}  {h.get('status')}  {h.get('url')}  "
                                     f"{','.join(h.get('events') or [])}" for h in hooks] or ["no webhooks registered"])
        elif action == "register":
            events = [e.strip() for e in args.events.split(",") if e.strip()]
            if not events:
                raise ConfigError("--events needs at least one event name")
            secret = os.environ.get(args.secret_env) or None
            if secret is None:
                raise ConfigError(f"set {args.secret_env} to the webhook signing secret: the receiver "
                                  "refuses unsigned events")
            hook = client.register_webhook(args.url, events, secret)
            _show(args.json, hook, [f"registered {hook.get('id')} for {hook.get('url')} "
                                    f"({','.join(hook.get('events') or [])})"])
        elif action == "delete":
            answer = client.delete_webhook(args.webhook_id)
            _show(args.json, answer, [f"deleted {answer.get('id')}"])
        else:
            raise ConfigError(f"unknown webhooks action {action!r}")
    except (Unauthorized, Forbidden) as exc:
        raise MarketplaceUnreachable(f"EcomLinx refused the API key: {exc.message}") from None
    except TransportError as exc:
        raise MarketplaceUnreachable(str(exc)) from None
    except EcomLinxError as exc:
        raise ConfigError(f"EcomLinx refused: {exc.message} ({exc.code})") from None
    finally:
        client.http.close()
    return EXIT_OK


def _client(base_url: str | None) -> Any:
    from connector.config import load_secret
    from connector.http import HttpClient
    from connector.marketplaces.ecomlinx import PLUGIN
    from connector.marketplaces.ecomlinx.client import EcomLinxClient

    secret = load_secret(PLUGIN.name, PLUGIN.credential_env)
    if not secret:
        raise ConfigError(f"no credentials for EcomLinx: set {PLUGIN.credential_env} in the environment")
    http = HttpClient(base_url or PLUGIN.default_base_url, auth=lambda: PLUGIN.auth_headers(secret), max_retries=3)
    return EcomLinxClient(http)


def _show(as_json: bool, payload: Any, lines: list[str]) -> None:
    from connector.console import out

    if as_json:
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for line in lines:
        out.print(line, markup=False)


def _serve(args: argparse.Namespace) -> int:
    from connector.config import default_state_file
    from connector.console import out
    from connector.marketplaces.ecomlinx.webhooks import DEFAULT_READ_TIMEOUT, EventStore, WebhookReceiver

    secret = os.environ.get(args.secret_env)
    if not secret:
        raise ConfigError(f"set {args.secret_env} to the webhook signing secret (the one given at registration)")
    if args.max_body < 1:
        raise ConfigError("--max-body must be a positive number of bytes")
    if args.max_connections < 1:
        raise ConfigError("--max-connections must be at least 1")
    if not args.request_timeout > 0:
        raise ConfigError("--request-timeout must be a positive number of seconds")
    if not args.path.startswith("/"):
        raise ConfigError(f"--path must start with '/' (e.g. /hooks/ecomlinx), not {args.path!r}")
    state_path = args.state or default_state_file()
    handler = None
    if args.enqueue_profile is not None:  # issue 15: events become jobs for the workers
        from connector.service.queue import service_url
        from connector.service.webhooks import enqueue_handler

        handler = enqueue_handler(service_url(args.db), args.enqueue_profile, "ecomlinx")
    store = EventStore(state_path)
    try:
        receiver = WebhookReceiver(secret, store, host=args.host, port=args.port, path=args.path, handler=handler,
                                   max_body_bytes=args.max_body, max_connections=args.max_connections,
                                   request_timeout=args.request_timeout,
                                   read_timeout=min(DEFAULT_READ_TIMEOUT, args.request_timeout))
    except OSError as exc:
        store.close()
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    out.print(f"receiving EcomLinx webhooks on {receiver.url} (events stored in {shown(state_path)}; Ctrl-C to stop)")
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
