"""Sync profiles and credentials.

A profile (YAML) says what to read, where to push, the stock policy and where the state lives.  Secrets are
never in a profile (refused by key name, and by value under any key name: ``connector.secret_patterns``): they
come from the environment (``ELEBNE_API_KEY``...) or from a credentials file outside the repository
(``$CONNECTOR_CREDENTIALS``, default ``~/.config/connector/credentials.yaml``)::

    elebne:
      api_key: sk_live_...
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.errors import ConfigError
from connector.secret_patterns import secret_kind
from connector.sync.state.location import Location, global_state_url, is_database_url, with_namespace
from connector.sync.stock_policy import StockPolicy

if TYPE_CHECKING:
    import yaml

SAFETY_KEYS = ("missing", "guard", "currency")  # read by connector.sync.safety.safety_options


def default_state_dir() -> Path:
    if os.environ.get("CONNECTOR_STATE_DIR"):
        return Path(os.environ["CONNECTOR_STATE_DIR"])
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "connector"


def default_state_file() -> Location:
    """The state file of a run without a profile (a profile's own is ``<profile name>.sqlite`` beside it), or
    with ``$CONNECTOR_STATE_URL`` the schema ``connector_default`` of that database."""
    url = global_state_url()
    return with_namespace(url, "default") if url else default_state_dir() / "default.sqlite"


def credentials_path() -> Path:
    env = os.environ.get("CONNECTOR_CREDENTIALS")
    return Path(env) if env else Path.home() / ".config" / "connector" / "credentials.yaml"


def load_secret(target: str, env_name: str) -> str | None:
    """The target's secret from the environment first, then from the credentials file."""
    value = os.environ.get(env_name)
    if value:
        return value.strip()
    path = credentials_path()
    if not path.exists():
        return None
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        raise ConfigError(f"credentials file {path} is readable by other users; run: chmod 600 {path}")
    import yaml  # (not at import: a run that reads nothing needs neither)

    from connector.mapping.yaml_lines import load_yaml

    try:
        data = _plain(load_yaml(path.read_text(encoding="utf-8"))) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"credentials file {path} is not valid YAML: {yaml_problem(exc)}") from None
    entry = data.get(target) if isinstance(data, dict) else None
    if isinstance(entry, dict):
        secret = entry.get("api_key") or entry.get("secret") or entry.get("password")
        return str(secret).strip() if secret else None
    return None


@dataclass
class TargetConfig:
    name: str
    base_url: str | None = None
    account: str | None = None
    mapping: str | None = None
    secret_env: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    stock: dict[str, Any] = field(default_factory=dict)  # per-channel stock policy overrides
    safety: dict[str, Any] = field(default_factory=dict)  # issue 12: missing, guard, currency (connector/sync/safety)
    schedule: dict[str, Any] = field(default_factory=dict)  # issue 15: kind -> cron (connector/service/schedule)


@dataclass
class Profile:
    name: str
    source: dict[str, Any]
    targets: dict[str, TargetConfig]
    state: Location  # a file (SQLite) or a postgresql:// URL with this profile's schema
    stock: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    reports_keep: int = 100  # `reports: {keep: N}`: the newest N reports are kept beside the state file
    safety: dict[str, Any] = field(default_factory=dict)  # global missing, guard, currency (connector.sync.safety)
    orders: OrdersSection | None = None  # `orders:` (issue 13): marketplace orders in, before the stock push
    schedule: dict[str, Any] = field(default_factory=dict)  # issue 15: kind -> cron, for every target

    def stock_policy(self, target: str) -> StockPolicy:
        return make_stock_policy({**self.stock, **self.targets[target].stock})


ORDER_DESTINATIONS = ("odoo", "workbook")
ORDERS_KEYS = ("to", "workbook", "from", "lookback_days", "overlap_minutes", "reserve_open_orders", "odoo",
               "fulfilment")
FULFILMENT_KEYS = ("enabled", "carriers", "cancel_reasons", "shipped_when")
SHIPPED_WHEN = ("all_lines", "any_line")


@dataclass
class FulfilmentSection:
    """``orders.fulfilment``: what is sent back to the marketplaces (connector.fulfilment).  Per target: the
    source's carrier name -> the marketplace's courier name (keys trimmed and case-folded), the source's
    cancellation words -> the marketplace's reason code (``default`` for any other), and when an order-level
    marketplace is told an order shipped (``all_lines`` or ``any_line``)."""

    enabled: bool = True
    carriers: dict[str, dict[str, str]] = field(default_factory=dict)
    cancel_reasons: dict[str, dict[str, str]] = field(default_factory=dict)
    shipped_when: dict[str, str] = field(default_factory=dict)


@dataclass
class OrdersSection:
    """A profile's ``orders:`` table: where marketplace orders go and how they are read (connector.orders).

    ``from_targets`` None means every target whose marketplace has an order reader; ``odoo`` is handed as it is
    to the Odoo destination, which validates it."""

    to: str
    workbook: Path | None = None
    from_targets: list[str] | None = None
    lookback_days: float = 7
    overlap_minutes: float = 10
    reserve_open_orders: bool = True
    odoo: dict[str, Any] = field(default_factory=dict)
    fulfilment: FulfilmentSection = field(default_factory=FulfilmentSection)

    @property
    def pull_settings(self) -> dict[str, float]:
        return {"lookback_days": self.lookback_days, "overlap_minutes": self.overlap_minutes}


def orders_section(path: Path, data: Any, targets: dict[str, TargetConfig]) -> OrdersSection:
    """The ``orders:`` table, checked: unknown keys, a destination without its settings, ``from`` naming a
    marketplace the profile does not push to, numbers that are not numbers are all errors (exit 2)."""
    if not isinstance(data, dict):
        raise ConfigError(f"profile {path}: 'orders' must be a table (to: workbook, workbook: orders.xlsx, ...)")
    _refuse_unknown_keys(path, "orders.", data, ORDERS_KEYS)
    to = data.get("to") or ("workbook" if data.get("workbook") else "odoo" if data.get("odoo") else None)
    if to not in ORDER_DESTINATIONS:
        raise ConfigError(f"profile {path}: 'orders.to' must be one of {', '.join(ORDER_DESTINATIONS)}"
                          + (f", not {to!r}" if to is not None else ""))
    workbook = data.get("workbook")
    if workbook is not None and (not isinstance(workbook, str) or not workbook.strip()):
        raise ConfigError(f"profile {path}: 'orders.workbook' must be a file name (orders.xlsx or orders.csv)")
    if to == "workbook" and not workbook:
        raise ConfigError(f"profile {path}: 'orders.to: workbook' needs 'orders.workbook: orders.xlsx' (or .csv)")
    if workbook and Path(workbook).suffix.lower() not in (".xlsx", ".csv"):
        raise ConfigError(f"profile {path}: 'orders.workbook: {workbook}': the file name must end in .xlsx or .csv "
                          "(it says which format is written)")
    wb_path = Path(os.path.expanduser(workbook)) if workbook else None
    if wb_path is not None and not wb_path.is_absolute():
        wb_path = (path.parent / wb_path).resolve()
    sources = data.get("from")
    if sources is not None:
        if isinstance(sources, str):
            sources = [sources]
        if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
            raise ConfigError(f"profile {path}: 'orders.from' must list target names, e.g. [elebne, ecomlinx]")
        unknown = [s for s in sources if s not in targets]
        if unknown:
            raise ConfigError(f"profile {path}: 'orders.from' names {', '.join(map(repr, unknown))}, not a target of "
                              f"this profile (its targets: {', '.join(targets)})")
    odoo = data.get("odoo") or {}
    if not isinstance(odoo, dict):
        raise ConfigError(f"profile {path}: 'orders.odoo' must be a table")
    reserve = data.get("reserve_open_orders", True)
    if not isinstance(reserve, bool):
        raise ConfigError(f"profile {path}: 'orders.reserve_open_orders' must be true or false")
    return OrdersSection(to=to, workbook=wb_path, from_targets=list(dict.fromkeys(sources)) if sources else None,
                         lookback_days=_number(path, data, "lookback_days", 7, 1, 3650),
                         overlap_minutes=_number(path, data, "overlap_minutes", 10, 0, 7 * 24 * 60),
                         reserve_open_orders=reserve, odoo=odoo,
                         fulfilment=fulfilment_section(path, data.get("fulfilment"), targets))


def fulfilment_section(path: Path, data: Any, targets: dict[str, TargetConfig]) -> FulfilmentSection:
    """``orders.fulfilment``, checked like the rest of ``orders:`` (exit 2 on an unknown key, a target the
    profile does not push to, a value that is not text)."""
    if data is None:
        return FulfilmentSection()
    where = "orders.fulfilment"
    if not isinstance(data, dict):
        raise ConfigError(f"profile {path}: '{where}' must be a table (carriers:, cancel_reasons:, shipped_when:, "
                          "enabled:)")
    _refuse_unknown_keys(path, f"{where}.", data, FULFILMENT_KEYS)
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"profile {path}: '{where}.enabled' must be true or false")

    def per_target(key: str) -> dict[str, Any]:
        table = data.get(key) or {}
        if not isinstance(table, dict):
            raise ConfigError(f"profile {path}: '{where}.{key}' must be a table of target -> ...")
        unknown = [str(t) for t in table if t not in targets]
        if unknown:
            raise ConfigError(f"profile {path}: '{where}.{key}' names {', '.join(map(repr, unknown))}, not a target "
                              f"of this profile (its targets: {', '.join(targets)})")
        return table

    def names(key: str, example: str) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for target, table in per_target(key).items():
            if not isinstance(table, dict) or not all(
                    isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip() for k, v in table.items()):
                raise ConfigError(f"profile {path}: '{where}.{key}.{target}' must map text to text, e.g. {example}")
            out[target] = {matching_name(k): v.strip() for k, v in table.items()}
        return out

    shipped_when = per_target("shipped_when")
    for target, value in shipped_when.items():
        if value not in SHIPPED_WHEN:
            raise ConfigError(f"profile {path}: '{where}.shipped_when.{target}' must be one of "
                              f"{', '.join(SHIPPED_WHEN)}, not {value!r}")
    return FulfilmentSection(enabled=enabled, carriers=names("carriers", '{"DHL Express": "Delhivery"}'),
                             cancel_reasons=names("cancel_reasons", '{"out of stock": "OOS", default: "OTHER"}'),
                             shipped_when=dict(shipped_when))


def matching_name(text: str) -> str:
    """How carrier names and cancellation words are matched: trimmed, inner spaces collapsed, case-folded."""
    return " ".join(text.split()).casefold()


def _number(path: Path, data: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"profile {path}: 'orders.{key}' must be a number from {low:g} to {high:g}, not {value!r}")
    return value


def make_stock_policy(data: dict[str, Any]) -> StockPolicy:
    allowed = {"quantity", "locations", "buffer", "maximum", "percent"}
    unknown = set(data) - allowed
    if unknown:
        raise ConfigError(f"unknown stock setting(s): {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(allowed))})")
    locs = data.get("locations")
    try:
        return StockPolicy(
            quantity=str(data.get("quantity", "available")),
            locations=tuple(str(x) for x in locs) if locs else None,
            buffer=int(data.get("buffer", 0)),
            maximum=int(data["maximum"]) if data.get("maximum") is not None else None,
            percent=int(data.get("percent", 100)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad stock setting: {exc}") from None


def load_profile(path: str | Path) -> Profile:
    import yaml

    from connector.mapping.yaml_lines import load_yaml

    path = Path(path)
    try:
        # bounded (nesting, aliases: a profile may be shared), then plain dicts and lists for the code that reads it
        data = _plain(load_yaml(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ConfigError(f"cannot read profile {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"profile {path} is not valid YAML: {yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"profile {path} must be a YAML table")
    for secret_key in ("api_key", "password", "secret"):
        where = _key_path(data, secret_key)
        if where is not None:
            raise ConfigError(f"profile {path} contains '{where}': secrets belong in the environment or in "
                              f"{credentials_path()}, never in a profile")
    found = list(_secret_values(data))
    if found:
        shown = "; ".join(f"'{where}' holds what looks like {kind}" for where, kind in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise ConfigError(f"profile {path}: {shown}{more}: secrets belong in the environment (name the variable "
                          f"with api_key_env / password_env) or in {credentials_path()}, never in a profile")
    named = list(_secret_names(data))
    if named:
        shown = ", ".join(f"'{where}'" for where in named[:5])
        raise ConfigError(f"profile {path}: {shown} {'is' if len(named) == 1 else 'are'} named like a secret: "
                          f"secrets belong in the environment (name the variable with api_key_env / password_env) "
                          f"or in {credentials_path()}, never in a profile")
    _refuse_unknown_keys(path, "", data, PROFILE_KEYS)
    name = str(data.get("name") or path.stem)
    source = data.get("source")
    if isinstance(source, str):
        source = {"type": "spreadsheet", "path": source}
    if not isinstance(source, dict) or "type" not in source:
        raise ConfigError(f"profile {path}: 'source' needs a 'type' (spreadsheet, odoo, aleta)")
    if source.get("path") and not Path(source["path"]).is_absolute():
        source["path"] = str((path.parent / source["path"]).resolve())
    targets_raw = data.get("targets") or {}
    if not isinstance(targets_raw, dict) or not targets_raw:
        raise ConfigError(f"profile {path}: 'targets' must name at least one marketplace")
    targets = {}
    for tname, tdata in targets_raw.items():
        tdata = tdata or {}
        if not isinstance(tdata, dict):
            raise ConfigError(f"profile {path}: 'targets.{tname}' must be a table (account:, api_key_env:, ...)")
        _refuse_unknown_keys(path, f"targets.{tname}.", tdata, TARGET_KEYS)
        if tdata.get("mapping") and not Path(tdata["mapping"]).is_absolute():
            tdata["mapping"] = str((path.parent / tdata["mapping"]).resolve())
        targets[tname] = TargetConfig(
            name=tname, base_url=tdata.get("base_url"), account=tdata.get("account"), mapping=tdata.get("mapping"),
            secret_env=tdata.get("api_key_env") or tdata.get("secret_env"), settings=tdata.get("settings") or {},
            stock=tdata.get("stock") or {}, safety={k: tdata[k] for k in SAFETY_KEYS if k in tdata},
            schedule=tdata.get("schedule") or {})
    state = data.get("state") or global_state_url()
    state_path: Location
    if is_database_url(state):
        state_path = with_namespace(str(state), name)  # this profile's schema of the shared database
    else:
        state_path = Path(os.path.expanduser(state)) if state else default_state_dir() / f"{name}.sqlite"
        if state and not state_path.is_absolute():
            state_path = (path.parent / state_path).resolve()
    profile = Profile(name=name, source=source, targets=targets, state=state_path, stock=data.get("stock") or {},
                      path=path, reports_keep=_reports_keep(path, data.get("reports")),
                      safety={k: data[k] for k in SAFETY_KEYS if k in data}, schedule=data.get("schedule") or {},
                      orders=orders_section(path, data["orders"], targets) if "orders" in data else None)
    from connector.sync.safety import safety_options

    _check_target_settings(path, targets)
    for t in targets:
        profile.stock_policy(t)  # validate early
        safety_options(t, profile.safety, targets[t].safety, targets[t].settings)  # validate early
    return profile


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong and where, without PyYAML's copy of the offending line: that line may hold a secret."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark is not None else str(problem)


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


PROFILE_KEYS = ("name", "source", "state", "stock", "targets", "reports", "orders", "schedule", *SAFETY_KEYS)
TARGET_KEYS = ("base_url", "account", "mapping", "api_key_env", "secret_env", "settings", "stock", "schedule",
               *SAFETY_KEYS)


def _check_target_settings(path: Path, targets: dict[str, TargetConfig]) -> None:
    """Each target's ``settings:`` against what its marketplace reads (``settings_check``); a target naming no
    installed marketplace is left to the run, which says which ones are."""
    from connector.marketplaces.registry import plugins
    from connector.marketplaces.settings_check import settings_problems

    installed = plugins()
    problems = [problem for name, target in targets.items() if name in installed
                for problem in settings_problems(installed[name], target.settings, f"targets.{name}.settings")]
    if problems:
        raise ConfigError(f"profile {path}: " + "; ".join(problems))


def _refuse_unknown_keys(path: Path, where: str, data: dict[str, Any], known: tuple[str, ...]) -> None:
    """A misspelt key is never ignored: ``base-url:`` would otherwise send to the production API, ``mising:``
    apply another policy than the one written."""
    unknown = [str(k) for k in data if k not in known]
    if unknown:
        raise ConfigError(f"profile {path}: unknown key(s) {', '.join(f'{where}{k}' for k in unknown)} (a typo? "
                          f"known here: {', '.join(known)})")


def _secret_values(obj: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(key path, kind) of every value, under any key name, that looks like a credential; never the value."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            here = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and (kind := secret_kind(key)):
                yield f"a key name under {where or 'the top level'}", kind
                here = f"{where}.<that key>" if where else "<that key>"
            yield from _secret_values(value, here)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _secret_values(value, f"{where}[{i}]")
    elif isinstance(obj, bytes | str) and (kind := secret_kind(obj if isinstance(obj, str) else
                                                            obj.decode("latin-1"))):  # !!binary too
        yield where or "the profile", kind


_SECRET_NAME_ENDINGS = ("apikey", "password", "passwd", "secret", "token", "accesskey", "privatekey",
                        "authorization")


def _secret_names(obj: Any, where: str = "") -> Iterator[str]:
    """Key paths whose name says they hold a credential (``client_secret``, ``apiKey``, ``odoo-password``,
    ``Authorization``...) and that hold a value; ``*_env`` names (the variable to read) end otherwise."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            here = f"{where}.{key}" if where else str(key)
            name = "".join(ch for ch in str(key).lower() if ch.isalnum())
            if (name.endswith(_SECRET_NAME_ENDINGS) and not isinstance(value, dict | list | bool)
                    and value is not None and str(value).strip()):
                yield here
            else:
                yield from _secret_names(value, here)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _secret_names(value, f"{where}[{i}]")


def _reports_keep(path: Path, reports: Any) -> int:
    keep = (reports or {}).get("keep", 100) if isinstance(reports, dict) or reports is None else None
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ConfigError(f"profile {path}: 'reports' must be like `reports: {{keep: 50}}` (a whole number >= 1)")
    return keep


def _key_path(obj: Any, key: str, where: str = "") -> str | None:
    """The path of the first key called ``key`` (``targets.elebne.api_key``), or None: the message names where
    the secret sits, never its value."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        here = f"{where}[{k}]" if isinstance(obj, list) else f"{where}.{k}" if where else str(k)
        if k == key and isinstance(obj, dict):
            return here
        found = _key_path(v, key, here)
        if found is not None:
            return found
    return None
