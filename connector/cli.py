"""The ``connector`` command.  User mistakes print a message and an exit code, never a traceback."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connector import __version__
from connector.errors import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, ConnectorError, UserError
from connector.shipped import sample_workbook
from connector.sync.state.location import state_location


def __getattr__(name: str) -> Any:
    """``SAMPLE_WORKBOOK`` is located on first use, not on every ``connector`` start."""
    if name == "SAMPLE_WORKBOOK":
        return sample_workbook()
    raise AttributeError(name)


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
    t.add_argument("--force", action="store_true", help="replace an existing file")

    v = sub.add_parser("validate", help="check a workbook without sending anything")
    v.add_argument("file", type=Path)
    v.add_argument("--errors-copy", type=Path, help="write a copy with bad cells highlighted and commented")
    v.add_argument("--currency", default=os.environ.get("CONNECTOR_CURRENCY", "MRU"))
    v.add_argument("--json", action="store_true", help="print the issues as JSON")
    v.add_argument("--target", action="append", metavar="NAME",
                   help="also check every row against this marketplace's rules, as a dry run would (lengths, "
                        "number ranges, variants, image URLs...); repeatable; nothing is sent")
    v.add_argument("--profile", type=Path, help="a sync profile whose target settings, mapping and stock policy "
                                                "to use with --target (alone: check against each of its targets)")

    s = sub.add_parser("sync", help="push a source to a marketplace")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--source", help="a workbook or CSV file")
    src.add_argument("--profile", type=Path, help="a sync profile (YAML): source, targets, stock policy, state")
    s.add_argument("--target", help="marketplace name (default: every target of the profile)")
    s.add_argument("--dry-run", action="store_true", help="plan only: print and save what would be sent")
    s.add_argument("--state", type=state_location,
                   help="state file, or a postgresql:// URL (default: $CONNECTOR_STATE_URL, else one file per "
                        "profile under ~/.local/state/connector)")
    s.add_argument("--mapping", help="mapping file (default: the marketplace's shipped mapping)")
    s.add_argument("--base-url", help="marketplace API base URL (e.g. a sandbox)")
    s.add_argument("--account", help="name of the marketplace account in the state file (default: API host)")
    s.add_argument("--currency", help="currency of prices in a workbook without a Currency column, or of the "
                   "supplier feed (default: $CONNECTOR_CURRENCY, else MRU for workbooks)")
    s.add_argument("--report", type=Path, help="write the JSON report here")
    s.add_argument("--stock-locations", help="only these stock locations count, comma-separated")
    s.add_argument("--stock-buffer", type=int, default=0, help="list 0 at or below this quantity")
    s.add_argument("--stock-max", type=int, help="never list more than this")
    s.add_argument("--stock-percent", type=int, default=100, help="list this percentage, rounded down")
    s.add_argument("--full", action="store_true",
                   help="read everything, not only what changed since the last run (a workbook or CSV: read and "
                        "plan it even if it did not change since the last clean run; EcomLinx: its product listing "
                        "is read again, whatever the age of the cached one)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")
    s.add_argument("--progress-every", type=float, default=30.0, metavar="SECONDS",
                   help="without a terminal, a progress line at least this often (default 30)")
    s.add_argument("--allow-mass-change", action="store_true",
                   help="send even if the run would set to 0 or disable more than the guard allows")
    s.add_argument("--allow-price-change", action="store_true",
                   help="send a price even if it is more than the guard's max_price_change (default 5) times, or "
                        "less than its fraction of, the price the marketplace last confirmed")
    s.add_argument("--allow-sku-case-change", action="store_true",
                   help="create a product whose SKU is a listed one typed in other letter case (TEAPOT-1L retyped "
                        "Teapot-1L), the old listing going as no longer in source (default: neither is sent, and "
                        "the run needs attention)")
    s.add_argument("--allow-location-removal", action="store_true",
                   help="send the stock even though a stock location of the last run (a 'Stock - <location>' "
                        "sheet, a CSV's 'Stock: <location>' column) is missing from the file, and forget it "
                        "(default: the stock is not sent, and the run needs attention)")
    s.add_argument("--allow-active-column-removal", action="store_true",
                   help="create the products never listed although the workbook lost the Active column the last run "
                        "had, on sale (default: they are not created, and the run needs attention)")
    s.add_argument("--missing", choices=("zero", "disable", "keep"),
                   help="what happens on the marketplace to SKUs no longer in the source (default: zero)")

    from connector.orders.step_command import add_step_options

    o = sub.add_parser("orders", help="bring marketplace orders into Odoo or the orders workbook")
    o.add_argument("--profile", type=Path, required=True, help="a sync profile (YAML) with its marketplaces")
    o.add_argument("--to", metavar="odoo|FILE",
                   help="where the orders go: odoo, or an orders workbook (.xlsx or .csv; default: the profile's "
                        "orders: section)")
    o.add_argument("--target", help="only this marketplace's orders (default: every one the profile reads)")
    o.add_argument("--dry-run", action="store_true", help="read the orders and say what would happen; nothing is "
                                                          "written or saved")
    add_step_options(o)

    from connector.fulfilment.command import add_parser as add_fulfil_parser

    add_fulfil_parser(sub)  # fulfil (issue 14): connector/fulfilment/command.py

    e = sub.add_parser("export", help="write a source's catalogue as a workbook in the template format")
    e.add_argument("--source", required=True, help="aleta, odoo, or a workbook/CSV file")
    e.add_argument("--profile", type=Path, help="a sync profile whose source settings to use")
    e.add_argument("-o", "--output", required=True, type=Path)
    e.add_argument("--lang", choices=("en", "fr", "ar"), default="en")
    e.add_argument("--currency", default=os.environ.get("CONNECTOR_CURRENCY", "MRU"))
    e.add_argument("--force", action="store_true", help="replace an existing file")

    w = sub.add_parser("webhooks", help="EcomLinx webhooks: register, list, delete; serve a receiver (+Elebne)")
    w.add_argument("action", choices=("register", "list", "delete", "serve"))
    w.add_argument("rest", nargs=argparse.REMAINDER, help="arguments of the action (see --help of each)")

    sb = sub.add_parser("sandbox", help="run a local marketplace sandbox on 127.0.0.1")
    sb.add_argument("marketplace")
    sb.add_argument("--port", type=port_number, default=8787)
    sb.add_argument("--db", help="SQLite file for the sandbox state (default: in memory)")
    sb.add_argument("--key", action="append", help="accepted API key (repeatable; default: any test key)")

    d = sub.add_parser("demo", help="sync the bundled sample workbook to a local Elebne sandbox, twice")
    d.add_argument("--workbook", type=Path, help="default: the bundled sample workbook")

    m = sub.add_parser("mapping", help="check a mapping file, or print the mapping JSON Schema")
    _add_minor_units(m, default=2)  # `mapping --minor-units N check FILE`, as before the actions had parsers
    actions = m.add_subparsers(dest="action", required=True, metavar="{check,schema}")
    # each action its own parser: with one optional FILE beside the action, argparse gave FILE its empty value
    # on meeting `check --minor-units N`, and refused the FILE after the option
    mc = actions.add_parser("check", help="validate a mapping file")
    mc.add_argument("file", nargs="?", type=Path)
    _add_minor_units(mc, default=argparse.SUPPRESS)  # absent: the value given before `check`, or 2
    ms = actions.add_parser("schema", help="print the mapping JSON Schema")
    ms.add_argument("file", nargs="?", type=Path, help=argparse.SUPPRESS)  # ignored, as it always was

    sub.add_parser("marketplaces", help="list installed marketplace plugins")
    from connector.service.commands import add_parsers as add_service_parsers

    add_service_parsers(sub)  # worker, schedule, status, watch, service (issue 15)
    return p


def _add_minor_units(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--minor-units", type=int, default=default, choices=range(7), metavar="N",
                        help="digits of the account currency's minor units, for a marketplace taking prices in "
                             "them (default 2; as the profile's currency: {minor_units: N})")


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535 (a larger one ended in a traceback)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to 65535, not {text!r}")
    return port


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.process_ends = argv is None  # the process's own command line: it ends when this returns
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        handler = globals()[f"cmd_{args.command}"]
        return int(handler(args))
    except UserError as exc:
        _err().print(f"[red]error:[/] {_escape(str(exc))}")
        return exc.exit_code
    except ConnectorError as exc:
        _err().print(f"[red]error:[/] {_escape(str(exc))}")
        return getattr(exc, "exit_code", EXIT_UNREACHABLE)
    except KeyboardInterrupt:
        _err().print("interrupted: state holds everything confirmed so far; run again to carry on")
        return 130
    except BrokenPipeError:  # the output's reader went away (`connector mapping schema | head`): no traceback
        _silence_stdout()
        return 128 + signal.SIGPIPE  # what a shell shows for a program ended by SIGPIPE


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout replaced by an object without a file descriptor (tests)
        pass


def _err() -> Any:
    """The console's stderr, imported when there is something to say (a run that reads nothing needs no console)."""
    from connector.console import err

    return err


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# -- commands ----------------------------------------------------------------------------------------------------
def cmd_template(args: argparse.Namespace) -> int:
    from connector.console import out
    from connector.errors import ConfigError
    from connector.sources.spreadsheet import write_template
    from connector.sources.spreadsheet.outputs import check_output_path

    if args.output.suffix.lower() != ".xlsx":
        raise ConfigError(f"template -o {args.output}: the template is a workbook: the file name must end in .xlsx")
    check_output_path(args.output, "template -o")
    if args.output.exists() and not args.force:  # most likely the merchant's filled-in catalogue
        raise ConfigError(f"template -o {args.output}: the file exists (a filled-in catalogue?); choose another "
                          "name, or add --force to replace it with a blank template")
    locations = [x.strip() for x in args.locations.split(",") if x.strip()]
    write_template(args.output, lang=args.lang, locations=locations, example=not args.no_example)
    out.print(f"template written to {_escape(str(args.output))} ({args.lang}, stock sheets: "
              f"{_escape(', '.join(locations))})")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from connector.console import out, print_issues
    from connector.marketplaces.registry import get_plugin
    from connector.sources.spreadsheet import read_spreadsheet, write_error_copy
    from connector.sources.spreadsheet.outputs import output_format

    if args.errors_copy:
        output_format(args.errors_copy, "--errors-copy", [args.file],  # refused before anything is read
                      xlsm=args.file.suffix.lower() == ".xlsm")
    profile = None
    if args.profile:
        from connector.config import load_profile

        profile = load_profile(args.profile)
        if not args.target:  # a profile alone: every target it pushes to
            args.target = list(profile.targets)
    result = read_spreadsheet(args.file, currency=args.currency)
    titles = [get_plugin(t).title for t in dict.fromkeys(args.target or ())]
    if args.target:
        result.issues.extend(_target_issues(args, result, profile))
    errors = result.errors
    if args.json:
        print(json.dumps({"products": len(result.products), "rows": len(result.rows), "warnings": result.warnings,
                          "issues": [i.to_json() for i in result.issues]}, ensure_ascii=False, indent=2))
    else:
        print_issues(result.issues, result.warnings)
        good = sum(1 for r in result.rows if not r.skipped_reason)
        skipped = len(result.rows) - good
        refused = sum(1 for i in result.issues if i.severity == "error" and i.reason.split(":")[0] in titles)
        out.print(f"{args.file}: {len(result.products)} product(s), {good} good row(s)"
                  + (f", {skipped} row(s) would be skipped (problems above)" if skipped else "")
                  + (f"; {refused} problem(s) for {', '.join(titles)}" if args.target else ""))
    if args.errors_copy and result.issues:
        marked = write_error_copy(args.file, result.issues, args.errors_copy)
        out.print(f"error copy with {marked} marked cell(s) written to {args.errors_copy}")
    return EXIT_FAILED if errors else EXIT_OK


def _target_issues(args: argparse.Namespace, result: Any, profile: Any = None) -> list[Any]:
    """What each ``--target`` would refuse, as issues of the file: a dry run against a fresh state (every
    product planned as new, so every rule applies), nothing sent, no credentials needed."""
    from connector.config import make_stock_policy
    from connector.errors import ConfigError
    from connector.marketplaces.registry import get_plugin
    from connector.sources.base import Issue
    from connector.sync.report import FAILED
    from connector.sync.runner import SyncOptions, run_sync
    from connector.sync.safety import safety_options
    from connector.sync.state import StateStore

    issues: list[Issue] = []
    headers = _headers_reader()
    for target in dict.fromkeys(args.target):
        plugin = get_plugin(target)
        tconf = profile.targets.get(target) if profile else None
        if profile and tconf is None:
            raise ConfigError(f"profile {args.profile} has no target {target!r} (it has: {', '.join(profile.targets)})")
        settings = dict(tconf.settings) if tconf else {}
        settings.setdefault("email", "validate@localhost")  # a login name some plugins need; nothing is sent
        stock = {**(profile.stock if profile else {}), **(tconf.stock if tconf else {})}
        opts = SyncOptions(target=target, state_path=Path(":memory:"), secret=None, dry_run=True,
                           mapping=tconf.mapping if tconf else None, settings=settings,
                           stock_policy=make_stock_policy(stock), source_label=str(args.file),
                           safety=safety_options(target, profile.safety if profile else {},  # currency, minor units
                                                 tconf.safety if tconf else {}, settings))
        with StateStore.open(":memory:") as state:
            report = run_sync(result, opts, state=state).report
        _merchant_columns(report.issues, args.file, headers)
        located: set[str | None] = set()  # SKUs (and products) with a problem named cell by cell
        for i in report.issues:
            if i.get("target") == target:
                located.add(i["sku"])
                issues.append(Issue(f"{plugin.title}: {i['reason']}", sheet=i["sheet"], row=i["row"],
                                    column=i["column"], value=i["value"], sku=i["sku"]))
        located |= {row.product for row in report.rows if row.sku in located}
        for row in report.rows:  # refused otherwise (mapping, blocked...): the row's own reason
            if row.status == FAILED and row.product not in located:
                issues.append(Issue(f"{plugin.title}: {row.reason}", sheet=row.sheet, row=row.row, sku=row.sku))
    return issues


def _headers_reader() -> Callable[[Path, str | None], dict[str, str]]:
    """``_column_headers`` that reads each file's sheet once per command (several targets share it)."""
    return functools.cache(_column_headers)


def _merchant_columns(issues: list[dict[str, Any]], path: Path,
                      headers_of: Callable[[Path, str | None], dict[str, str]] | None = None) -> bool:
    """Name the columns of a marketplace's problems (``issues`` of a report with a ``target``) as the file
    ``path`` writes them; True when one was renamed.  ``headers_of``: where to read the headers from
    (default: the file, each time)."""
    mine = [i for i in issues if i.get("target") and i.get("column") and i.get("sheet")]
    if not mine:
        return False
    changed = False
    for sheet in {i["sheet"] for i in mine}:
        headers = (headers_of or _column_headers)(path, sheet)
        for i in mine:
            if i["sheet"] == sheet and headers.get(i["column"], i["column"]) != i["column"]:
                i["column"], changed = headers[i["column"]], True
    return changed


def _column_headers(path: Path, sheet: str | None) -> dict[str, str]:
    """The template's English column name -> the header as written in the merchant's file (``Price`` ->
    ``Prix*``), so a marketplace's problem names the column the merchant has, and the error copy marks its
    cell.  Reads only the first rows of an .xlsx/.xlsm or CSV file; other formats keep the English names."""
    import csv

    from connector.sources.spreadsheet.columns import PRODUCT_ALIASES, match_headers
    from connector.sources.spreadsheet.reader import decode_bytes, sniff_delimiter

    suffix = path.suffix.lower()
    rows: list[list[Any]] = []
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            with path.open("rb") as fh:
                head = fh.read(1 << 16)
            text = decode_bytes(head[:head.rfind(b"\n") + 1] or head)[0]
            lines = text.splitlines()[:10]
            rows = list(csv.reader(lines, delimiter=sniff_delimiter(next((ln for ln in lines if ln.strip()), ""))))
        elif suffix in (".xlsx", ".xlsm") and sheet:
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True, data_only=True)
            try:
                rows = [list(r) for r in wb[sheet].iter_rows(max_row=10, values_only=True)]
            finally:
                wb.close()
    except (OSError, KeyError, ValueError, csv.Error):
        return {}
    found = next((hm for hm in (match_headers(r, PRODUCT_ALIASES) for r in rows) if "sku" in hm.fields), None)
    if found is None:
        return {}
    out: dict[str, str] = {}
    for spec_key, match in found.fields.items():
        assert match.spec is not None
        out[match.spec.labels["en"]] = match.header
        out.setdefault(spec_key, match.header)
    for match in found.attributes:
        out[f"Attribute: {match.name}"] = match.header
    return out


def cmd_sync(args: argparse.Namespace) -> int:
    # only what deciding that nothing changed needs is imported before it (sync/unchanged.py): the rest below
    from connector.config import default_state_file, load_profile
    from connector.errors import ConfigError
    from connector.sync.state import StateStore
    from connector.sync.state.location import is_database_url, with_namespace
    from connector.sync.unchanged import SourceFile, target_inputs

    args.currency_given = args.currency  # a supplier feed must be told its currency
    args.currency = args.currency or os.environ.get("CONNECTOR_CURRENCY", "MRU")
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
        state_path = with_namespace(args.state, profile.name) if args.state else profile.state
    else:
        if not args.target:
            raise ConfigError("--target is required with --source (e.g. --target elebne)")
        profile = None
        targets = [args.target]
        source_config = _source_config(args.source, args.currency)
        label = str(args.source)
        state_path = args.state or default_state_file()

    workbook = Path(source_config["path"]) if source_config.get("type") == "spreadsheet" else None
    if args.report is not None:  # refused before anything is read or sent
        from connector.sources.spreadsheet.outputs import check_output_path

        mappings = [args.mapping, *(profile.targets[t].mapping for t in targets)] if profile else [args.mapping]
        state_file = None if is_database_url(state_path) else Path(state_path)
        inputs = [workbook, state_file, args.profile, *(Path(m) for m in mappings if m)]
        if profile and profile.orders and profile.orders.workbook:
            inputs.append(profile.orders.workbook)
        check_output_path(args.report, "--report", [p for p in inputs if p is not None], folder_must_exist=False)
    unchanged = {t: target_inputs(args, profile, t, stock_cli, source_config, args.currency) for t in targets}
    setup = (args, profile, targets, source_config, label, state_path, stock_cli, workbook, unchanged)
    source = SourceFile.of(source_config)
    if source is None or args.dry_run or args.full or (profile and profile.orders):
        return _sync_read(*setup, state=None)
    with StateStore.open(state_path) as state:  # (once for both: a PostgreSQL lock is not let go in between)
        code = _report_unchanged(state, source, {t: (i, {}) for t, i in unchanged.items()}, args, profile, label,
                                 state_path)
        if code is not None:  # the source did not change since the last clean run: not read
            return code
        return _sync_read(*setup, state=state)


def _sync_read(args: argparse.Namespace, profile: Any, targets: list[str], source_config: dict[str, Any], label: str,
               state_path: Any, stock_cli: dict[str, Any], workbook: Path | None, unchanged: dict[str, Any], *,
               state: Any) -> int:
    """``sync`` as it reads its source (and, with ``orders:``, runs the orders and fulfilment steps first), in
    ``state`` if it is open already."""
    from connector.sync.unchanged import SourceFile

    # a workbook read started before the imports and setup below, which then overlap its native load (not when an
    # orders step, which may write the stock file, goes first)
    path = _background_workbook(source_config) if not (profile and profile.orders) else None
    early = source_file = None
    if path is not None:
        from connector.sources.spreadsheet.background import BackgroundRead

        source_file = SourceFile.of(source_config) if not args.dry_run else None  # hashed before the read
        early = BackgroundRead(path, source_config.get("currency", args.currency))
        early.wait_for_load()
    try:
        return _sync_read_on(args, profile, targets, source_config, label, state_path, stock_cli, workbook,
                             unchanged, state=state, early=early, source_file=source_file)
    finally:
        if early is not None:  # (a run that stopped before it took the read: a library caller keeps no thread)
            early.close(wait=not getattr(args, "process_ends", False))


def _background_workbook(source_config: dict[str, Any]) -> Path | None:
    """The workbook of a spreadsheet source that a ``BackgroundRead`` reads (sources/spreadsheet/background.py)."""
    if source_config.get("type") != "spreadsheet":
        return None
    from connector.sources.spreadsheet.background import SUFFIXES

    path = Path(source_config["path"])
    return path if path.suffix.lower() in SUFFIXES else None


def _sync_read_on(args: argparse.Namespace, profile: Any, targets: list[str], source_config: dict[str, Any],
                  label: str, state_path: Any, stock_cli: dict[str, Any], workbook: Path | None,
                  unchanged: dict[str, Any], *, state: Any, early: Any, source_file: Any) -> int:
    """``_sync_read`` with the read ``early`` started (its result taken instead of reading), the file hashed
    before it as ``source_file``."""
    import dataclasses
    from contextlib import nullcontext

    from connector.console import err, out, print_plan, print_summary, progress_factory
    from connector.http.stop import StopSignal
    from connector.marketplaces.registry import get_plugin
    from connector.orders.profile import OrdersStep
    from connector.sources.registry import read_source
    from connector.sync.collector import source_kept
    from connector.sync.currency import require_source_currency
    from connector.sync.profile import KEEP_REPORTS, run_profile, worst
    from connector.sync.runner import SyncOptions, SyncOutcome, target_mapping
    from connector.sync.state import StateStore
    from connector.sync.unchanged import CleanRuns, SourceFile

    progress = progress_factory(not args.no_progress, args.progress_every)
    stop = StopSignal()

    def target_options(target: str) -> SyncOptions:
        return _target_options(args, profile, target, state_path=state_path, label=label, stock_cli=stock_cli,
                               progress=progress, stop=stop)

    headers = _headers_reader()

    def merchant_columns(report: Any) -> None:  # the marketplace's problems under the file's own column names
        if workbook is not None:
            _merchant_columns(report.issues, workbook, headers)

    def show(outcome: SyncOutcome, report_path: Path) -> None:
        if args.dry_run and outcome.plan is not None:
            print_plan(outcome.plan, outcome.results)
        print_summary(outcome.report)
        if outcome.report.refused:  # the mass-change guard: its reason is printed last
            err.print(f"[red]error:[/] {_escape(outcome.report.refused)}")
        out.print(f"report: {report_path}")
        if clean_runs is not None:  # the next run with the same inputs need not read the source
            clean_runs.note(outcome, source, others_clean=orders_code == fulfil_code == EXIT_OK)

    currency_warning = require_source_currency(source_config, args.currency_given, dict(os.environ))
    # every target's mapping loads and is that marketplace's before anything is read or sent (and is not loaded
    # again as the target plans)
    mappings = {t: target_mapping(t, args.mapping or (profile.targets[t].mapping if profile else None),
                                  get_plugin(t).default_mapping) for t in targets}
    orders = OrdersStep(profile, profile.orders, args.target, target_options) if profile and profile.orders else None
    fulfil = fulfil_step(profile, args.target, target_options)
    with nullcontext(state) if state is not None else StateStore.open(state_path) as state, _stop_on_sigterm(stop):
        options = [dataclasses.replace(target_options(t), loaded_mapping=mappings[t]) for t in targets]
        orders_code, fulfil_code, shared = EXIT_OK, EXIT_OK, None
        if orders is not None:  # orders first: what they hold back is known before stock is planned
            try:
                orders_code, options = orders.run(state, options, report_to=args.report)
                if fulfil is not None:
                    fulfil.share_odoo(orders)  # the same Odoo: one connection for the orders, fulfilment, stock
                shared = orders.hand_over_odoo(source_config)
            finally:
                orders.close()
        if fulfil is not None:  # then shipments and cancellations back, before the stock push
            try:
                fulfil_code = fulfil.run(state, report_to=args.report, several=True).exit_code
                shared = fulfil.hand_over_odoo(source_config) or shared
            finally:
                fulfil.close()
        if early is None:
            source_file = SourceFile.of(source_config) if not args.dry_run else None  # hashed before the read
        if source_file is not None and not args.full and all(o.stock_policy.hold is None for o in options):
            code = _report_unchanged(state, source_file, {o.target: (unchanged[o.target], o.stock_policy.reserved)
                                                          for o in options}, args, profile, label, state_path)
            if code is not None:  # orders and fulfilment ran; the stock file did not change since
                return worst([orders_code, fulfil_code, code])
        clean_runs = None if args.dry_run else CleanRuns(state, source_file, unchanged, options)
        with source_kept() as read_done:  # a large source's records live to the end: kept out of gc traversals
            source = early.result() if early is not None else \
                read_source(source_config, state, full=args.full, currency=args.currency, odoo_backend=shared)
            read_done()
            if currency_warning:
                source.warnings.append(currency_warning)
            result = run_profile(source, options, state, report_to=args.report,
                                 progress=progress, on_outcome=show, before_save=merchant_columns,
                                 keep_reports=profile.reports_keep if profile else KEEP_REPORTS)
    if result.cursors_kept:
        out.print("incremental cursor kept where it was: the next run reads these changes again")
    if getattr(args, "process_ends", False):  # reports written, nothing left to free by hand: the process ends
        from connector.sync.collector import leave_for_exit

        leave_for_exit(source, result)
    return worst([orders_code, fulfil_code, result.exit_code])


def _report_unchanged(state: Any, source: Any, targets: dict[str, tuple[dict[str, Any], Any]],
                      args: argparse.Namespace, profile: Any, label: str, state_path: Any) -> int | None:
    """If every target of ``targets`` (target -> its inputs and reservations) would plan nothing: its report
    saved and a line printed for each (exit 0); else None."""
    from connector.config import load_secret
    from connector.sync.profile import KEEP_REPORTS, save_report
    from connector.sync.unchanged import find_unchanged, inputs_key

    keys = {t: inputs_key(inputs, reserved) for t, (inputs, reserved) in targets.items()}
    found = find_unchanged(state, source, keys, label, load_secret)
    if found is None:
        return None
    for item in found:
        item.record(state)
        path = save_report(item.report, item.target, state_path, requested=args.report, several=len(targets) > 1,
                           keep=profile.reports_keep if profile else KEEP_REPORTS)
        print(f"Sync {label} -> {item.target}: {item.message}")
        if item.report.warnings or item.report.issues:  # still true of the file: said again, as a run that reads
            from connector.console import print_warnings

            print_warnings(item.report)
        print(f"report: {path}")
    return EXIT_OK


def fulfil_step(profile: Any, only: str | None, options: Callable[[str], Any]) -> Any:
    """The fulfilment part of ``sync --profile`` (a ``FulfilStep``), or None: no ``orders:`` section, or
    ``orders.fulfilment.enabled: false``."""
    if profile is None or profile.orders is None or not profile.orders.fulfilment.enabled:
        return None
    from connector.console import out
    from connector.fulfilment.profile import FulfilStep, SourceUnavailable

    try:
        return FulfilStep(profile, profile.orders, only, options)
    except SourceUnavailable as exc:  # orders in still run, and the stock push: fulfilment is said to be missing
        out.print(f"note: {_escape(str(exc))}: no shipments or cancellations are sent back by this run")
        return None


def _target_options(args: argparse.Namespace, profile: Any, target: str, *, state_path: Path, label: str,
                    stock_cli: dict[str, Any], progress: Any, stop: Any) -> Any:
    """One target's ``SyncOptions`` from the profile and the command line (``sync`` and ``orders``)."""
    from connector.config import load_secret, make_stock_policy
    from connector.console import err
    from connector.marketplaces.registry import get_plugin
    from connector.sync.guard_flags import ALLOWS
    from connector.sync.runner import SyncOptions
    from connector.sync.safety import safety_options
    from connector.sync.unchanged import TARGET_FLAGS

    plugin = get_plugin(target)
    tconf = profile.targets[target] if profile else None
    profile_stock = profile.stock if profile else {}
    policy = make_stock_policy({**profile_stock, **(tconf.stock if tconf else {}), **stock_cli})
    secret_env = (tconf.secret_env if tconf and tconf.secret_env else plugin.credential_env)
    cli = {k: getattr(args, k, None) for k in TARGET_FLAGS}
    return SyncOptions(
        target=target, state_path=state_path, secret=load_secret(target, secret_env), secret_env=secret_env,
        base_url=cli["base_url"] or (tconf.base_url if tconf else None),
        account=cli["account"] or (tconf.account if tconf else None),
        mapping=cli["mapping"] or (tconf.mapping if tconf else None), dry_run=args.dry_run,
        full=bool(getattr(args, "full", False)),
        stock_policy=policy, settings=tconf.settings if tconf else {}, source_label=label,
        on_wait=progress.waiting if progress else None, stop=stop,
        announce=lambda text: err.print(f"[yellow]note:[/] {_escape(text)}"),
        safety=safety_options(target, profile.safety if profile else {}, tconf.safety if tconf else {},
                              tconf.settings if tconf else {}, missing=cli["missing"],
                              allowed={name for name in ALLOWS if cli[name]}))


@contextmanager
def _stop_on_sigterm(stop: Any) -> Iterator[None]:
    """While syncing, SIGTERM ends the run like a spent budget: the request in flight finishes, the rest is
    deferred, the state is saved, the summary printed and the report written (exit 3)."""
    def handler(_signum: int, _frame: Any) -> None:
        stop.set("SIGTERM received")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding application): its own signals stay its own
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _source_config(source: str, currency: str) -> dict[str, Any]:
    """``--source FILE`` is a spreadsheet; ``--source odoo|aleta`` reads its settings from the environment."""
    if source in ("odoo", "aleta"):
        return {"type": source, "from_env": True}
    if not Path(source).suffix and not Path(source).exists():  # `Aleta`, `odo`: neither a source name nor a file
        from connector.errors import ConfigError

        raise ConfigError(f"--source {source}: no such file, and not a source name: give a workbook or CSV file "
                          "(.xlsx, .csv...), or odoo or aleta (in lower case)")
    return {"type": "spreadsheet", "path": source, "currency": currency}


def cmd_orders(args: argparse.Namespace) -> int:
    from connector.config import load_profile
    from connector.orders.profile import OrdersStep, section_for
    from connector.orders.step_command import run_step

    profile = load_profile(args.profile)
    return run_step(args, profile, section_for(profile, args.to), label="orders", make_step=OrdersStep,
                    go=lambda step, state, **kw: step.pull(state, **kw), target_options=_target_options,
                    stop_on_sigterm=_stop_on_sigterm)


def cmd_fulfil(args: argparse.Namespace) -> int:
    from connector.fulfilment.command import run

    return run(args, _target_options, _stop_on_sigterm)


def cmd_export(args: argparse.Namespace) -> int:
    from connector.config import load_profile
    from connector.console import out, print_issues, print_warning_lines
    from connector.errors import ConfigError
    from connector.sources.registry import read_source
    from connector.sources.spreadsheet.export import write_catalogue
    from connector.sources.spreadsheet.outputs import output_format

    config = dict(load_profile(args.profile).source) if args.profile else _source_config(args.source, args.currency)
    inputs = [Path(str(config["path"]))] if config.get("path") else []
    output_format(args.output, "export -o", inputs)  # refused before anything is read
    if args.output.exists() and not args.force:  # an export the merchant has edited since, or their catalogue
        raise ConfigError(f"export -o {args.output}: the file exists (edited since, or your catalogue?); choose "
                          "another name, or add --force to replace it")
    result = read_source(config, None, full=True, currency=args.currency)
    rows = write_catalogue(result.products, args.output, lang=args.lang)
    # what was left out, and why (exit 1 alone says nothing); warnings counted, the first few shown
    print_issues([i for i in result.issues if i.severity == "error"])
    print_warning_lines(list(result.warnings) + [i.reason for i in result.issues if i.severity == "warning"],
                        rest="a dry run of `connector sync` reports all")
    left_out = sum(1 for r in result.rows if r.skipped_reason)
    out.print(f"{args.output}: {len(result.products)} product(s), {rows} row(s) in the template format"
              + (f"; {left_out} row(s) not exported (problems above)" if left_out else ""))
    return EXIT_FAILED if result.errors else EXIT_OK


def cmd_webhooks(args: argparse.Namespace) -> int:
    from connector.marketplaces.ecomlinx.webhooks_cli import run

    return int(run(args.action, args.rest))


def cmd_sandbox(args: argparse.Namespace) -> int:
    from connector.console import out
    from connector.errors import ConfigError
    from connector.marketplaces.registry import get_plugin
    from connector.sandbox.start import start_errors

    with start_errors(args.port, args.db):  # a port in use, a --db that cannot be opened: one line, exit 2
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
    from connector.sync.profile import run_profile, worst
    from connector.sync.runner import SyncOptions
    from connector.sync.safety import safety_options
    from connector.sync.state import StateStore

    plugin = get_plugin("elebne")
    workbook = args.workbook or sample_workbook()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="connector-demo-") as tmp:
        server = plugin.create_sandbox(port=0, db_path=str(Path(tmp) / "sandbox.sqlite"))
        server.start()
        try:
            out.print(f"Elebne sandbox started on {server.url}")
            code = EXIT_OK
            for attempt in ("first run: everything is new", "second run: nothing changed, nothing is sent"):
                out.rule(attempt)
                source = read_spreadsheet(workbook, currency="MRU")
                opts = SyncOptions(target="elebne", state_path=Path(tmp) / "state.sqlite", secret=plugin.sandbox_key,
                                   base_url=server.url + plugin.sandbox_base_path, account="demo-shop",
                                   source_label=workbook.name, safety=safety_options("elebne", {}, {}, {}))
                with StateStore.open(opts.state_path) as state:
                    result = run_profile(source, [opts], state, on_outcome=lambda o, _path: print_summary(o.report))
                code = worst([code, result.exit_code])
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
    _check_price_unit(compiled, args.minor_units)
    kinds = ", ".join(f"{n} ({len(p.level.plain) + len(p.level.exprs)} fields)" for n, p in compiled.payloads.items())
    out.print(f"{args.file}: valid mapping for {compiled.marketplace}: {kinds}")
    return EXIT_OK


def _check_price_unit(compiled: Any, digits: int) -> None:
    """A mapping whose prices are not in the unit its marketplace reads is refused (``sync/price_unit.py``), as a
    run with it is; a marketplace the registry does not know, or whose adapter needs more than its settings to be
    made, is not checked here."""
    from connector.marketplaces.registry import get_plugin
    from connector.sync.price_unit import price_unit_problems
    from connector.sync.session import merge_settings

    try:
        plugin = get_plugin(compiled.marketplace)
        settings = merge_settings(plugin.settings, {})
        adapter = plugin.make_adapter(None, settings, "mapping-check", "")  # type: ignore[arg-type]
    except Exception:  # (an unknown or third-party marketplace: nothing to check it against)
        return
    for problem in price_unit_problems(compiled, adapter, settings.get("defaults") or {}, digits):
        raise problem


def cmd_marketplaces(_args: argparse.Namespace) -> int:
    from connector.console import out
    from connector.marketplaces.registry import plugins

    for name, plugin in sorted(plugins().items()):
        out.print(f"{name}: {plugin.title} ({plugin.default_base_url}); key from ${plugin.credential_env}; "
                  f"mapping {plugin.default_mapping}")
    return EXIT_OK


def _service_command(args: argparse.Namespace) -> int:
    """``worker``, ``schedule``, ``status``, ``watch`` and ``service`` (issue 15): connector/service/commands.py."""
    from connector.service.commands import run

    return run(args)


cmd_worker = cmd_schedule = cmd_status = cmd_watch = cmd_service = _service_command


if __name__ == "__main__":
    sys.exit(main())
