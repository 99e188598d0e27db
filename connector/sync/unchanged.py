"""A sync whose inputs did not change since the last clean run skips reading and planning (issue 16).

After a run of ``connector sync`` that ended completely clean for a target and account (exit 0, every operation
confirmed, nothing deferred, failed or skipped, no guard refusal, no quantity held back; rows of archived products
never listed on the marketplace, ``archived.py``, are the same in every run with the same inputs and state: they
are kept as they are, the other rows reported unchanged), the state keeps a
*clean run* (``StateStore.save_clean_run``): a digest of everything that decides the plan besides the state,
and what a later run checks and reports.  A later run of a spreadsheet source with the same inputs knows its
plan before reading a cell: every operation of that run is confirmed, so the same records against the same
confirmed payloads plan nothing.  It then says so, writes a report in which every input row is ``unchanged``,
and exits 0 without reading the file.  The run is *provably* the same when all of these hold, else it runs as
always:

- the source file: the same resolved path, the same size, and the same sha256 of its bytes (the size is only
  a quick first test, never enough alone); the reader's options (the source section, the currency);
- the mapping context: every mapping file of the ``extends`` chain has the same sha256, and the target's
  settings, defaults, account, base URL, mapping path, stock policy, safety options (missing, guard, currency)
  and command-line overrides are the same, under the same connector version (which fixes the adapters, the
  plugins' own settings and the reader);
- the open orders: the same reservations (a profile with ``orders:`` runs its orders and fulfilment steps
  first, then checks), and no hold (orders that could not be read);
- the state: no write to the confirmed payloads of any kind the plan reads since the clean run (each write
  raises a generation counter in its own transaction, ``StateStore.generations``), no batch of an interrupted
  run left open, and no run of the target started since (a real run forgets the account's clean run before it
  reads, and saves a new one only if it ends clean: a killed or failed run leaves none);
- credentials for the target are still there (a run without them is refused, shortcut or not).

``--full`` (and ``--dry-run``) always read and plan.  This module imports only the state and the report, so a
run that takes the shortcut starts in a fraction of the normal imports.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.code_identity import code_identity
from connector.sync.guard_flags import ALLOWS
from connector.sync.state import CleanRun, StateStore, new_run_id, utcnow

if TYPE_CHECKING:
    from connector.sources.base import SourceResult
    from connector.sync.report import RunReport
    from connector.sync.runner import SyncOutcome
    from connector.sync.session import SyncOptions

FORMAT = 1
"""The version of what a clean run saves (``checks`` and ``detail``): another one is not used."""
STANDARD_OPERATIONS = ("create", "update", "stock", "unchanged", "failed", "deferred", "skipped", "mapping_failed")
"""The keys ``report.count_operations`` gives; the others a clean run's report holds are the adapter's."""


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@dataclass(frozen=True)
class SourceFile:
    """The workbook or CSV file of a spreadsheet source: resolved path, size and modification time as it was
    found, and its sha256 (read on first use, so that a size that differs already costs no hashing)."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> SourceFile | None:
        """The source file of ``config`` (a ``source:`` section), or None: not a spreadsheet, or not there (the
        normal run says why)."""
        if config.get("type") != "spreadsheet" or not config.get("path"):
            return None
        path = Path(str(config["path"])).resolve()
        try:
            found = path.stat()
        except OSError:
            return None
        return cls(str(path), found.st_size, found.st_mtime_ns)

    @functools.cached_property
    def sha256(self) -> str:
        """The sha256 of the file's bytes; "" when it cannot be read or was written while it was hashed."""
        try:
            digest = file_sha256(Path(self.path))
            after = os.stat(self.path)
        except OSError:
            return ""
        return digest if (after.st_size, after.st_mtime_ns) == (self.size, self.mtime_ns) else ""

    def identity(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses as dicts; anything else JSON cannot say as its text (Decimal, Path...)."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def digest_of(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=_plain, ensure_ascii=False).encode()).hexdigest()


# the command line's options that decide a target's options (``cli._target_options``): part of a clean run's identity
TARGET_FLAGS = ("base_url", "account", "mapping", "missing", *ALLOWS)


def target_inputs(args: Any, profile: Any, target: str, stock_cli: Mapping[str, Any],
                  source_config: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """What decides one target's options and records besides the source file's bytes, as the command line and
    the profile give it (``cli._target_options`` builds the options from exactly these)."""
    tconf = profile.targets[target] if profile else None
    cli = {k: getattr(args, k, None) for k in TARGET_FLAGS}
    mapping = cli["mapping"] or (tconf.mapping if tconf else None)
    return {
        "version": code_identity(), "target": target, "source": dict(source_config), "currency": currency,
        "cli": cli, "stock_cli": dict(stock_cli), "mapping": str(Path(mapping).resolve()) if mapping else None,
        "profile": {"stock": profile.stock, "safety": profile.safety} if profile else None,
        "target_config": asdict(tconf) if tconf else None,
    }


def inputs_key(inputs: Mapping[str, Any], reserved: Mapping[str, int]) -> str:
    """The digest a clean run is found by: the target's inputs and the quantities held for open orders."""
    return digest_of({"inputs": inputs, "reserved": dict(reserved)})


# -- taking the shortcut -----------------------------------------------------------------------------------------
@dataclass
class Unchanged:
    """A target whose run would plan nothing: its clean run, and the report that says so."""

    target: str
    clean: CleanRun
    source: SourceFile
    report: RunReport

    @property
    def message(self) -> str:
        when = datetime.fromisoformat(self.clean.finished_at.replace("Z", "+00:00")).astimezone(UTC)
        rows = sum(self.report.status_counts.values())
        return (f"source unchanged since the run at {when:%Y-%m-%d %H:%M:%S} UTC (sha256 {self.source.sha256[:12]}): "
                f"{rows:,} row(s), nothing to send")

    def record(self, state: StateStore) -> None:
        """The run in the state's runs, as a run that sent nothing records itself."""
        state.run_started(self.report.run_id)
        state.run_finished(self.report.run_id, self.report.exit_code,
                           {"rows": self.report.status_counts, "ops": self.report.operations})


def find_unchanged(state: StateStore, source: SourceFile | None, keys: Mapping[str, str], label: str,
                   secret: Any) -> list[Unchanged] | None:
    """Every target of ``keys`` (target -> ``inputs_key``) with its report when each one's last clean run had
    the same inputs and nothing changed since (see the module's docstring); None when any one may plan
    something (then every target runs as usual).  ``secret(target, env_name)``: the target's credentials."""
    if source is None or not keys:
        return None
    found = []
    for target, key in keys.items():
        runs = state.clean_runs(target, key)
        if len(runs) != 1:
            return None
        clean = runs[0]
        try:
            checks = json.loads(clean.checks)
            if checks.get("format") != FORMAT or not _still_true(state, clean, checks, source) \
                    or not secret(target, checks["credential_env"]):
                return None
            report = _report(state, clean, checks, label)
        except (KeyError, TypeError, ValueError, zlib.error):  # not what this version saves: run as usual
            return None
        found.append(Unchanged(target, clean, source, report))
    return found


def _still_true(state: StateStore, clean: CleanRun, checks: dict[str, Any], source: SourceFile) -> bool:
    known = checks["source"]
    if (known["path"], known["size"]) != (source.path, source.size):  # (the quick test first, never alone)
        return False
    if not source.sha256 or known["sha256"] != source.sha256:
        return False
    generations = state.generations(clean.marketplace)
    if any(generations.get((clean.account, kind), 0) != n for kind, n in checks["generations"].items()):
        return False
    if state.journal_open(clean.marketplace, clean.account):
        return False
    for name, sha in checks["mapping_files"]:
        try:
            if file_sha256(Path(name)) != sha:
                return False
        except OSError:
            return False
    return True


def _report(state: StateStore, clean: CleanRun, checks: dict[str, Any], label: str) -> RunReport:
    """The report of a run that plans nothing: what a run reading the file would report, from the clean run."""
    from connector.sync.report import RowOutcome

    meta_text, _, groups = zlib.decompress(clean.detail).decode("utf-8").partition("\n")
    detail = json.loads(meta_text)
    report = _unchanged_report_class()(run_id=new_run_id(), source=label, target=clean.marketplace, dry_run=False,
                                       started_at=utcnow())
    report.counts, report.products, report.groups_json = detail["status_counts"], detail["product_counts"], groups
    report.rows = [RowOutcome(**row) for row in detail.get("rows") or ()]
    report.warnings, report.issues, report.reserved = detail["warnings"], detail["issues"], detail["reserved"]
    report.operations = {**dict.fromkeys(STANDARD_OPERATIONS, 0), "unchanged": detail["unchanged"],
                         **detail["extras"]}
    report.estimate = detail["estimate"]
    day = datetime.now(UTC).strftime("%Y-%m-%d")  # the budgets' day (connector.http.budget.utc_day)
    report.http = {"requests": {}, "total_requests": 0, "retries": 0, "throttled_429": 0, "waited_seconds": 0.0,
                   "budget_remaining_today": {
                       c: None if per_day is None else max(0, per_day - state.budget_used(clean.marketplace,
                                                                                          clean.account, c, day))
                       for c, per_day in checks["per_day"].items()}}
    report.notes.append(f"source unchanged since the run {clean.run_id} (finished {clean.finished_at}, sha256 "
                        f"{checks['source']['sha256']}): not read or planned again (--full reads it)")
    report.finished_at = utcnow()
    return report


@functools.cache
def _unchanged_report_class() -> type[RunReport]:
    """``RunReport`` of a run where every row is unchanged.  A large one (more than ``ROWS_IN_FULL`` rows) keeps
    its rows as the clean run grouped them (``report.group_rows`` of those rows as unchanged, JSON text) and their
    counts, not as 300,000 objects: it is written in a few tens of milliseconds, as the same JSON."""
    from connector.sync.report import RunReport

    @dataclass
    class UnchangedReport(RunReport):
        counts: dict[str, int] = field(default_factory=dict)
        products: dict[str, dict[str, int]] = field(default_factory=dict)
        groups_json: str = ""  # "": the rows are in ``rows``

        @property
        def status_counts(self) -> dict[str, int]:
            return dict(self.counts) if self.groups_json else super().status_counts

        @property
        def product_counts(self) -> dict[str, dict[str, int]]:
            return self.products if self.groups_json else super().product_counts

        def to_json(self) -> dict[str, Any]:
            data = super().to_json()
            if self.groups_json:
                del data["rows"]
                data["row_groups"] = json.loads(self.groups_json)
            return data

        def save(self, path: Path) -> None:
            if not self.groups_json:
                return super().save(path)
            data = super().to_json()  # (RunReport's: without the groups, written after it as they are)
            del data["rows"]
            text = json.dumps(data, ensure_ascii=False, default=str)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f'{text[:-1]}, "row_groups": {self.groups_json}}}', encoding="utf-8")
            return None

    return UnchangedReport


# -- remembering a clean run -------------------------------------------------------------------------------------
class CleanRuns:
    """Around a normal (real) run: forgets the clean run of each target's account before anything is read, and
    saves a new one for each target whose run ends clean (``note``, after its report is final)."""

    def __init__(self, state: StateStore, source: SourceFile | None, inputs: Mapping[str, Mapping[str, Any]],
                 options: Sequence[SyncOptions]) -> None:
        from connector.marketplaces.registry import get_plugin
        from connector.sync.session import account_name, merge_settings

        self.state, self.source = state, source
        if source is not None:
            _ = source.sha256  # before the source is read: what the run reads is no older than this
        self.targets: dict[str, tuple[SyncOptions, str, Any, dict[str, Any]]] = {}
        for opts in options:
            plugin = get_plugin(opts.target)
            account = account_name(opts, plugin)
            state.forget_clean_runs(opts.target, account)
            settings = merge_settings(plugin.settings, opts.settings)
            self.targets[opts.target] = (opts, account, plugin, settings)
        self.inputs = inputs
        self.before = {t: state.generations(t) for t in self.targets}
        self.own_before = {t: state.own_writes(t) for t in self.targets}

    def note(self, outcome: SyncOutcome, source: SourceResult, *, others_clean: bool = True) -> bool:
        """Save the run of ``outcome`` as its account's clean run if it is one; True when saved."""
        report, plan = outcome.report, outcome.plan
        entry = self.targets.get(report.target)
        if entry is None or self.source is None or plan is None or not outcome.mapping_files or not others_clean:
            return False
        opts, account, plugin, settings = entry
        if opts.dry_run or opts.stock_policy.hold is not None or not _clean(outcome, source):
            return False
        kinds = sorted({*plan.roles, *plan.confirmed})
        marketplace = report.target
        now, own = self.state.generations(marketplace), self.state.own_writes(marketplace)
        before, own_before = self.before[marketplace], self.own_before[marketplace]
        if any(now.get((account, k), 0) - before.get((account, k), 0)
               != own.get((account, k), 0) - own_before.get((account, k), 0) for k in kinds):
            return False  # another process wrote to these payloads during the run
        try:
            mapping_files = [[str(Path(f).resolve()), file_sha256(Path(f))] for f in outcome.mapping_files]
        except OSError:
            return False
        try:
            now_file = os.stat(self.source.path)
        except OSError:
            return False
        if not self.source.sha256 or (now_file.st_size, now_file.st_mtime_ns) != (self.source.size,
                                                                                 self.source.mtime_ns):
            return False  # written since it was hashed (before the read): what was read is not known
        checks = {"format": FORMAT, "source": self.source.identity(),
                  "generations": {k: now.get((account, k), 0) for k in kinds},
                  "mapping_files": mapping_files, "credential_env": opts_secret_env(opts, plugin, self.inputs),
                  "per_day": {c: limit.per_day for c, limit in plugin.limits_with(settings).items()}}
        key = inputs_key(self.inputs[marketplace], opts.stock_policy.reserved)
        self.state.save_clean_run(CleanRun(marketplace, account, key, report.run_id, report.finished_at or utcnow(),
                                           json.dumps(checks, sort_keys=True),
                                           _detail(outcome, source, plugin.title)))
        return True


def opts_secret_env(opts: SyncOptions, plugin: Any, inputs: Mapping[str, Mapping[str, Any]]) -> str:
    """The environment variable the target's credentials come from (``cli._target_options``'s choice)."""
    tconf = inputs[opts.target].get("target_config") or {}
    return str(tconf.get("secret_env") or plugin.credential_env)


def _clean(outcome: SyncOutcome, source: SourceResult) -> bool:
    from connector.errors import EXIT_OK
    from connector.sync.report import PUSHED, UNCHANGED
    from connector.sync.rows import row_outcomes

    report, plan = outcome.report, outcome.plan
    assert plan is not None
    ops = report.operations
    if (report.exit_code != EXIT_OK or report.refused or report.unreachable or report.stopped or report.not_raised
            or plan.mapping_failures or any(ops.get(k) for k in ("failed", "deferred", "skipped", "mapping_failed"))):
        return False
    if any((o[0] not in (PUSHED, UNCHANGED) and not _stays(o)) or o[5] for o in row_outcomes(report.rows)):
        return False  # (status, attention)
    if len(report.rows) < len(source.rows):
        return False
    for op in plan.ops:  # every operation sent was confirmed
        result = outcome.results.get((op.kind, op.key))
        if op.action != "refresh" and (result is None or not result.ok or result.code):
            return False
    return True


def _detail(outcome: SyncOutcome, source: SourceResult, title: str) -> bytes:
    """What the report of a later run that takes the shortcut holds, compressed: every source row as unchanged
    (``account_rows`` gave them in the order of the source's rows) with their counts, the source's warnings and
    issues, the reservations, and the operation counts of a plan with nothing to send.  A large run's rows are
    kept as its report writes them (grouped, JSON text after the first line)."""
    from connector.sync.estimate import estimate_push
    from connector.sync.ops import CATALOGUE
    from connector.sync.report import (
        ROWS_IN_FULL,
        UNCHANGED,
        RowOutcome,
        RunReport,
        as_unchanged,
        group_rows,
        write_json,
    )
    from connector.sync.rows import row_outcomes

    report, plan = outcome.report, outcome.plan
    assert plan is not None
    # the source's rows, every one unchanged (the report's own rows when it has no others: not a copy)
    rows = report.rows if len(report.rows) == len(source.rows) else report.rows[:len(source.rows)]
    large = len(rows) > ROWS_IN_FULL
    view = RunReport(run_id=report.run_id, source=report.source, target=report.target, dry_run=False,
                     started_at=report.started_at)
    if any(map(_stays, row_outcomes(rows))):  # rows a later run reports as this one did (``_stays``), others unchanged
        view.rows = _as_later(rows, large)
        counts, products = view.status_counts, view.product_counts
        groups = group_rows(view.rows, lazy=True) if large else []
    elif large:
        counts, products, groups = as_unchanged(rows, lazy=True)
    else:
        view.rows = [RowOutcome(r.sku, r.product, r.sheet, r.row, UNCHANGED) for r in rows]
        counts, products, groups = view.status_counts, view.product_counts, []
    unchanged = 0  # what ``Plan.counts`` says of a plan where every product is unchanged
    for kind, role in plan.roles.items():
        if role == CATALOGUE:
            keys = set(plan.unchanged.get(kind, ()))
            keys.update(op.key for op in plan.ops if op.kind == kind and op.key in plan.products)
            unchanged += len(keys)
    detail = {"status_counts": counts, "product_counts": products,
              "warnings": report.warnings, "issues": report.issues, "reserved": report.reserved,
              "unchanged": unchanged,
              "extras": {k: v for k, v in report.operations.items() if k not in STANDARD_OPERATIONS},
              "estimate": estimate_push(title, {}, {}, {}),
              **({} if large else {"rows": [r.to_json() for r in view.rows]})}
    text = json.dumps(detail, ensure_ascii=False, default=str, separators=(",", ":"))
    if not large:
        return zlib.compress(text.encode("utf-8"), 6)
    # the groups' text (that of ``json.dumps(groups, ensure_ascii=False, default=str)``) written and compressed a
    # piece at a time: neither a tuple per row nor the whole text held at once (300,000 rows: about 40 MB)
    out = _Compressed()
    out.write(text + "\n")
    write_json(groups, out)
    return out.finish()


def _stays(outcome: tuple[Any, ...]) -> bool:
    """A row a later run with the same inputs and state reports as this one did, not as unchanged: an archived
    product or variant never listed on the marketplace (``archived.py``), skipped without attention."""
    from connector.sync.archived import ARCHIVED_NOT_LISTED

    return outcome[4] == ARCHIVED_NOT_LISTED and not outcome[5]


def _as_later(rows: Any, large: bool) -> Any:
    """``rows`` as a later run that takes the shortcut reports them: unchanged, the rows that stay (``_stays``) as
    they are; a list of rows, or (``large``) a ``RowTable``: of a ``RowTable``, one sharing its columns."""
    from connector.sync.report import UNCHANGED
    from connector.sync.rows import RowOutcome, RowTable

    unchanged: dict[Any, tuple[Any, ...]] = {}  # sheet -> the outcome of an unchanged row on it

    def later_of(outcome: tuple[Any, ...]) -> tuple[Any, ...]:
        if _stays(outcome):
            return outcome
        sheet = outcome[6]
        found = unchanged.get(sheet)
        if found is None:
            found = unchanged[sheet] = (UNCHANGED, [], None, None, None, False, sheet)
        return found

    if large and type(rows) is RowTable:  # (no row object, nor a second SKU, number and product per row)
        return rows.with_outcomes(later_of)
    out: Any = RowTable() if large else []  # (a large one as columns: its outcome tuples shared)
    later: dict[int, tuple[Any, ...]] = {}  # id of an outcome -> the later run's (rows share a few outcomes)
    for r in rows:
        outcome = r._outcome
        found = later.get(id(outcome))
        if found is None:
            found = later[id(outcome)] = later_of(outcome)
        out.append(RowOutcome.sharing(r.sku, r.product, r.row, found))
    return out


class _Compressed:
    """A text file whose text is compressed as it is written (``zlib.compress(text, 6)`` of all of it)."""

    def __init__(self) -> None:
        self._z = zlib.compressobj(6)
        self._parts: list[bytes] = []

    def write(self, text: str) -> None:
        self._parts.append(self._z.compress(text.encode("utf-8")))

    def finish(self) -> bytes:
        self._parts.append(self._z.flush())
        return b"".join(self._parts)
