"""``connector webhooks register|list|delete|serve`` (wired in connector/cli.py); ``serve`` is shared with
Elebne (``--marketplace elebne``, connector/webhooks/serve_cli.py).

The API key comes from ``ECOMLINX_API_KEY`` (or the credentials file), the webhook secret from
``ECOMLINX_WEBHOOK_SECRET`` (or ``--secret-env NAME``): secrets are never command-line arguments, which any
user of the machine can read in the process list.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from connector.errors import EXIT_OK, EXIT_USAGE, ConfigError, MarketplaceUnreachable

SECRET_ENV = "ECOMLINX_WEBHOOK_SECRET"


def _parser(action: str) -> argparse.ArgumentParser:

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
        from connector.webhooks.serve_cli import add_arguments

        add_arguments(p)
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
    """``serve`` is the shared receiver's command (EcomLinx, Elebne): connector/webhooks/serve_cli.py."""
    from connector.webhooks.serve_cli import serve

    return serve(args)
