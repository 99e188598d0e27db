"""The ``connector`` command.  User mistakes print a message and an exit code, never a traceback."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from connector import __version__
from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, ConnectorError, UserError

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_WORKBOOK = REPO_ROOT / "templates" / "sample_catalogue.xlsx"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="connector", description=__doc__)
    p.add_argument("--version", action="version", version=f"connector {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr (-vv: debug)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("template", help="write the spreadsheet template a merchant fills in")
    t.add_argument("-o", "--output", required=True, type=Path)
    t.add_argument("--lang", choices=("en", "fr", "ar"), default="en")
    t.add_argument("--locations", default="Main", help="stock locations, comma-separated (one sheet each)")
    t.add_argument("--no-example", action="store_true", help="leave out the example row")

    v = sub.add_parser("validate", help="check a workbook without sending anything")
    v.add_argument("file", type=Path)
    v.add_argument("--errors-copy", type=Path, help="write a copy with bad cells highlighted and commented")
    v.add_argument("--currency", default=os.environ.get("CONNECTOR_CURRENCY", "MRU"))
    v.add_argument("--json", action="store_true", help="print the issues as JSON")

    s = sub.add_parser("sync", help="push a source to a marketplace")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--source", help="a workbook or CSV file")
    src.add_argument("--profile", type=Path, help="a sync profile (YAML): source, targets, stock policy, state")
    s.add_argument("--target", help="marketplace name (default: every target of the profile)")
    s.add_argument("--dry-run", action="store_true", help="plan only: print and save what would be sent")
    s.add_argument("--state", type=Path, help="state file (default: one per profile under ~/.local/state/connector)")
    s.add_argument("--mapping", help="mapping file (default: the marketplace's shipped mapping)")
    s.add_argument("--base-url", help="marketplace API base URL (e.g. a sandbox)")
    s.add_argument("--account", help="name of the marketplace account in the state file (default: API host)")
    s.add_argument("--currency", default=os.environ.get("CONNECTOR_CURRENCY", "MRU"),
                   help="currency of prices in a workbook without a Currency column")
    s.add_argument("--report", type=Path, help="write the JSON report here")
    s.add_argument("--stock-locations", help="only these stock locations count, comma-separated")
    s.add_argument("--stock-buffer", type=int, default=0, help="list 0 at or below this quantity")
    s.add_argument("--stock-max", type=int, help="never list more than this")
    s.add_argument("--stock-percent", type=int, default=100, help="list this percentage, rounded down")
    s.add_argument("--full", action="store_true", help="read everything, not only what changed since the last run")
    s.add_argument("--no-progress", action="store_true")

    e = sub.add_parser("export", help="write a source's catalogue as a workbook in the template format")
    e.add_argument("--source", required=True, help="aleta, odoo, or a workbook/CSV file")
    e.add_argument("--profile", type=Path, help="a sync profile whose source settings to use")
    e.add_argument("-o", "--output", required=True, type=Path)
    e.add_argument("--lang", choices=("en", "fr", "ar"), default="en")
    e.add_argument("--currency", default=os.environ.get("CONNECTOR_CURRENCY", "MRU"))

    w = sub.add_parser("webhooks", help="EcomLinx webhooks: register, list, delete, or serve a receiver")
    w.add_argument("action", choices=("register", "list", "delete", "serve"))
    w.add_argument("rest", nargs=argparse.REMAINDER, help="arguments of the action (see --help of each)")

    sb = sub.add_parser("sandbox", help="run a local marketplace sandbox on 127.0.0.1")
    sb.add_argument("marketplace")
    sb.add_argument("--port", type=int, default=8787)
    sb.add_argument("--db", help="SQLite file for the sandbox state (default: in memory)")
    sb.add_argument("--key", action="append", help="accepted API key (repeatable; default: any test key)")

    d = sub.add_parser("demo", help="sync the bundled sample workbook to a local Elebne sandbox, twice")
    d.add_argument("--workbook", type=Path, default=SAMPLE_WORKBOOK)

    m = sub.add_parser("mapping", help="check a mapping file, or print the mapping JSON Schema")
    m.add_argument("action", choices=("check", "schema"))
    m.add_argument("file", nargs="?", type=Path)

    sub.add_parser("marketplaces", help="list installed marketplace plugins")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from connector.console import err

    try:
        handler = globals()[f"cmd_{args.command}"]
        return int(handler(args))
    except UserError as exc:
        err.print(f"[red]error:[/] {_escape(str(exc))}")
        return exc.exit_code
    except ConnectorError as exc:
        err.print(f"[red]error:[/] {_escape(str(exc))}")
        return getattr(exc, "exit_code", EXIT_UNREACHABLE)
    except KeyboardInterrupt:
        err.print("interrupted: state holds everything confirmed so far; run again to carry on")
        return 130


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# -- commands ----------------------------------------------------------------------------------------------------
def cmd_template(args: argparse.Namespace) -> int:
    from connector.console import out
    from connector.sources.spreadsheet import write_template

    locations = [x.strip() for x in args.locations.split(",") if x.strip()]
    write_template(args.output, lang=args.lang, locations=locations, example=not args.no_example)
    out.print(f"template written to {args.output} ({args.lang}, stock sheets: {', '.join(locations)})")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from connector.console import out, print_issues
    from connector.sources.spreadsheet import read_spreadsheet, write_error_copy
    from connector.sources.spreadsheet.outputs import output_format

    if args.errors_copy:
        output_format(args.errors_copy, "--errors-copy", [args.file],  # refused before anything is read
                      xlsm=args.file.suffix.lower() == ".xlsm")
    result = read_spreadsheet(args.file, currency=args.currency)
    errors = result.errors
    if args.json:
        print(json.dumps({"products": len(result.products), "rows": len(result.rows), "warnings": result.warnings,
                          "issues": [_issue_dict(i) for i in result.issues]}, ensure_ascii=False, indent=2))
    else:
        print_issues(result.issues, result.warnings)
        good = sum(1 for r in result.rows if not r.skipped_reason)
        skipped = len(result.rows) - good
        out.print(f"{args.file}: {len(result.products)} product(s), {good} good row(s)"
                  + (f", {skipped} row(s) would be skipped (problems above)" if skipped else ""))
    if args.errors_copy and result.issues:
        marked = write_error_copy(args.file, result.issues, args.errors_copy)
        out.print(f"error copy with {marked} marked cell(s) written to {args.errors_copy}")
    return EXIT_FAILED if errors else EXIT_OK


def _issue_dict(issue: Any) -> dict[str, Any]:
    return {"sheet": issue.sheet, "row": issue.row, "column": issue.column,
            "value": issue.shown_value if issue.value is not None else None, "reason": issue.reason,
            "sku": issue.sku, "severity": issue.severity}


def cmd_sync(args: argparse.Namespace) -> int:
    from connector.config import default_state_dir, load_profile, load_secret, make_stock_policy
    from connector.console import out, print_plan, print_summary, progress_factory
    from connector.errors import ConfigError
    from connector.marketplaces.registry import get_plugin
    from connector.sources.registry import read_source
    from connector.sync.runner import SyncOptions, run_sync
    from connector.sync.state import StateStore

    stock_cli: dict[str, Any] = {}
    if args.stock_locations:
        stock_cli["locations"] = [x.strip() for x in args.stock_locations.split(",") if x.strip()]
    if args.stock_buffer:
        stock_cli["buffer"] = args.stock_buffer
    if args.stock_max is not None:
        stock_cli["maximum"] = args.stock_max
    if args.stock_percent != 100:
        stock_cli["percent"] = args.stock_percent

    if args.profile:
        profile = load_profile(args.profile)
        targets = [args.target] if args.target else list(profile.targets)
        for t in targets:
            if t not in profile.targets:
                raise ConfigError(f"profile {args.profile} has no target {t!r} (it has: {', '.join(profile.targets)})")
        source_config = dict(profile.source)
        label = str(profile.source.get("path") or profile.source.get("type"))
        state_path = args.state or profile.state
    else:
        if not args.target:
            raise ConfigError("--target is required with --source (e.g. --target elebne)")
        profile = None
        targets = [args.target]
        source_config = _source_config(args.source, args.currency)
        label = str(args.source)
        state_path = args.state or default_state_dir() / "default.sqlite"

    worst = EXIT_OK
    with StateStore.open(state_path) as state:
        source = read_source(source_config, state, full=args.full, currency=args.currency)
        for target in targets:
            plugin = get_plugin(target)
            tconf = profile.targets[target] if profile else None
            profile_stock = profile.stock if profile else {}
            policy = make_stock_policy({**profile_stock, **(tconf.stock if tconf else {}), **stock_cli})
            secret_env = (tconf.secret_env if tconf and tconf.secret_env else plugin.credential_env)
            opts = SyncOptions(
                target=target, state_path=state_path, secret=load_secret(target, secret_env),
                base_url=args.base_url or (tconf.base_url if tconf else None),
                account=args.account or (tconf.account if tconf else None),
                mapping=args.mapping or (tconf.mapping if tconf else None), dry_run=args.dry_run,
                stock_policy=policy, settings=tconf.settings if tconf else {}, source_label=label)
            outcome = run_sync(source, opts, progress=progress_factory(not args.no_progress), state=state)
            report = outcome.report
            if args.dry_run and outcome.plan is not None:
                print_plan(outcome.plan)
            print_summary(report)
            report_path = args.report
            if report_path is None:
                report_path = state_path.parent / "reports" / f"{report.run_id}-{target}.json"
            elif len(targets) > 1:
                report_path = report_path.with_name(f"{report_path.stem}-{target}{report_path.suffix}")
            report.save(report_path)
            out.print(f"report: {report_path}")
            worst = max(worst, report.exit_code, key=_severity)
        if source.cursors and worst == EXIT_OK and not args.dry_run:
            for (src, name), value in source.cursors.items():
                state.set_cursor(src, name, value)
        elif source.cursors and not args.dry_run:
            out.print("incremental cursor kept where it was: the next run reads these changes again")
    return worst


def _source_config(source: str, currency: str) -> dict[str, Any]:
    """``--source FILE`` is a spreadsheet; ``--source odoo|aleta`` reads its settings from the environment."""
    if source in ("odoo", "aleta"):
        return {"type": source, "from_env": True}
    return {"type": "spreadsheet", "path": source, "currency": currency}


def _severity(code: int) -> int:
    """Which exit code wins when several targets ran: unreachable > failed > partial > ok."""
    return {0: 0, 3: 1, 1: 2, 4: 3}.get(code, 2)


def cmd_export(args: argparse.Namespace) -> int:
    from connector.config import load_profile
    from connector.console import out
    from connector.sources.registry import read_source
    from connector.sources.spreadsheet.export import write_catalogue
    from connector.sources.spreadsheet.outputs import output_format

    config = dict(load_profile(args.profile).source) if args.profile else _source_config(args.source, args.currency)
    inputs = [Path(str(config["path"]))] if config.get("path") else []
    output_format(args.output, "export -o", inputs)  # refused before anything is read
    result = read_source(config, None, full=True, currency=args.currency)
    rows = write_catalogue(result.products, args.output, lang=args.lang)
    out.print(f"{args.output}: {len(result.products)} product(s), {rows} row(s) in the template format")
    return EXIT_FAILED if result.errors else EXIT_OK


def cmd_webhooks(args: argparse.Namespace) -> int:
    from connector.marketplaces.ecomlinx.webhooks_cli import run

    return int(run(args.action, args.rest))


def cmd_sandbox(args: argparse.Namespace) -> int:
    from connector.console import out
    from connector.errors import ConfigError
    from connector.marketplaces.registry import get_plugin

    if args.marketplace == "aleta":  # a source, not a marketplace plugin: a generated supplier catalogue
        from connector.sources.aleta.sandbox import SANDBOX_KEY, create_sandbox

        server = create_sandbox(port=args.port, db_path=args.db, keys=args.key, variants=3000)
        key = args.key[0] if args.key else SANDBOX_KEY
        banner = f"Aleta sandbox on {server.api_url} (key {key}, 3,000 variants)"
    else:
        plugin = get_plugin(args.marketplace)
        if plugin.create_sandbox is None:
            raise ConfigError(f"{plugin.title} has no sandbox")
        server = plugin.create_sandbox(port=args.port, db_path=args.db, keys=args.key)
        banner = f"{plugin.title} sandbox on {server.url}{plugin.sandbox_base_path}"
    out.print(f"{banner} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Start an Elebne sandbox, sync the sample workbook twice (the second run must send nothing), stop."""
    from connector.console import out, print_summary
    from connector.marketplaces.registry import get_plugin
    from connector.sources.spreadsheet import read_spreadsheet
    from connector.sync.runner import SyncOptions, run_sync

    plugin = get_plugin("elebne")
    with tempfile.TemporaryDirectory(prefix="connector-demo-") as tmp:
        server = plugin.create_sandbox(port=0, db_path=str(Path(tmp) / "sandbox.sqlite"))
        server.start()
        try:
            out.print(f"Elebne sandbox started on {server.url}")
            code = EXIT_OK
            for attempt in ("first run: everything is new", "second run: nothing changed, nothing is sent"):
                out.rule(attempt)
                source = read_spreadsheet(args.workbook, currency="MRU")
                opts = SyncOptions(target="elebne", state_path=Path(tmp) / "state.sqlite", secret=plugin.sandbox_key,
                                   base_url=server.url + plugin.sandbox_base_path, account="demo-shop",
                                   source_label=args.workbook.name)
                report = run_sync(source, opts).report
                print_summary(report)
                report.save(Path(tmp) / f"{report.run_id}.json")
                code = max(code, report.exit_code)
            log = server_request_counts(server)
            out.print(f"sandbox received: {log}")
        finally:
            server.stop()
            out.print("sandbox stopped")
    return code


def server_request_counts(server: Any) -> str:
    import requests

    resp = requests.get(server.url + "/__sandbox/requests", timeout=5)
    entries = resp.json().get("requests", resp.json()) if resp.ok else []
    counts: dict[str, int] = {}
    for e in entries if isinstance(entries, list) else []:
        key = f"{e.get('method')} {e.get('path')}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items())) or "no requests"


def cmd_mapping(args: argparse.Namespace) -> int:
    from connector.console import out
    from connector.mapping import load_mapping
    from connector.mapping.schema import json_schema

    if args.action == "schema":
        print(json.dumps(json_schema(), indent=2))
        return EXIT_OK
    if args.file is None:
        from connector.errors import ConfigError

        raise ConfigError("mapping check needs a FILE")
    compiled = load_mapping(args.file)
    kinds = ", ".join(f"{n} ({len(p.level.plain) + len(p.level.exprs)} fields)" for n, p in compiled.payloads.items())
    out.print(f"{args.file}: valid mapping for {compiled.marketplace}: {kinds}")
    return EXIT_OK


def cmd_marketplaces(_args: argparse.Namespace) -> int:
    from connector.console import out
    from connector.marketplaces.registry import plugins

    for name, plugin in sorted(plugins().items()):
        out.print(f"{name}: {plugin.title} ({plugin.default_base_url}); key from ${plugin.credential_env}; "
                  f"mapping {plugin.default_mapping}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
