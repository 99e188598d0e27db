"""Connection and reading settings for the Odoo source (the ``source:`` section of a sync profile)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from connector.errors import ConfigError

DEFAULT_PAGE_SIZE = 2000  # a page costs its own reads, so fewer pages cost less (see docs/odoo.md)
DEFAULT_OVERLAP_SECONDS = 300
DEFAULT_ANSWER_DEADLINE = 600.0
"""Seconds for a whole answer when ``answer_deadline`` is unset (at least; five times ``timeout`` when longer): a
big page or a stock computation legitimately takes minutes on a busy server, and Odoo computes an answer whole
before it sends the first byte, so a server the per-read ``timeout`` accepts has its answer sent well within it;
only an answer that drips (a proxy, a failing network) runs into it (docs/odoo.md)."""


@dataclass(slots=True)
class OdooSettings:
    """What the Odoo source needs.  The secret itself never lives here: ``password_env`` names the
    environment variable that holds the password or API key.

    ``warehouses`` / ``locations`` are names (warehouse name or short code, location full name such as
    ``WH/Stock``) or integer ids.  Each becomes one key of ``Variant.stock``.  When both are empty every active
    warehouse the read sees is: of ``company``, or without it of every company the user may access (what Odoo
    gives an RPC call without ``allowed_company_ids``; docs/odoo.md).
    """

    url: str
    db: str
    user: str = "admin"
    password_env: str = "ODOO_PASSWORD"
    languages: list[str] = field(default_factory=list)
    warehouses: list[str | int] = field(default_factory=list)
    locations: list[str | int] = field(default_factory=list)
    image_base_url: str | None = None  # public base URL for /web/image links; None = no images
    include_image_bytes: bool = False  # also read image_1920 (base64) into Product.extra["image_bytes"]
    page_size: int = DEFAULT_PAGE_SIZE
    company: str | int | None = None  # restrict to one company (name or id); None = all the user's companies
    read_stock: bool = True
    domain: list[Any] = field(default_factory=list)  # extra Odoo domain ANDed to every product search
    overlap_seconds: int = DEFAULT_OVERLAP_SECONDS  # incremental cursor overlap (write_date is txn start)
    backend: str = "jsonrpc"  # jsonrpc (odoorpc) | json2 (Odoo 19+, API key as bearer token)
    timeout: float = 120.0
    # seconds for a whole answer (sending, status line, headers, body); None: ``answer_seconds``' default
    answer_deadline: float | None = None
    parallel_calls: int = 4  # a page's detail reads sent at the same time (1 = one after the other)
    retries: int = 5  # a read whose answer is lost or cut short is sent again this many times (backend.call)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"odoo setting 'url': expected http(s)://host[:port], got {self.url!r}")
        if not self.db:
            raise ConfigError("odoo setting 'db' is empty: name the Odoo database to read")
        if self.page_size < 1:
            raise ConfigError(f"odoo setting 'page_size' must be >= 1, got {self.page_size}")
        if self.backend not in ("jsonrpc", "json2"):
            raise ConfigError(f"odoo setting 'backend' must be 'jsonrpc' or 'json2', got {self.backend!r}")
        if self.parallel_calls < 1:
            raise ConfigError(f"odoo setting 'parallel_calls' must be >= 1, got {self.parallel_calls}")
        if not 0 <= self.retries <= 10:
            raise ConfigError(f"odoo setting 'retries' must be between 0 and 10, got {self.retries}")
        if self.timeout <= 0:
            raise ConfigError(f"odoo setting 'timeout' must be > 0 seconds, got {self.timeout}")
        if self.answer_deadline is not None and self.answer_deadline <= 0:
            raise ConfigError(f"odoo setting 'answer_deadline' must be > 0 seconds, got {self.answer_deadline}")
        if self.overlap_seconds < 0:
            raise ConfigError("odoo setting 'overlap_seconds' must be >= 0")

    @property
    def answer_seconds(self) -> float:
        """Seconds one call's answer may take, whole (``answer_deadline``, or ``DEFAULT_ANSWER_DEADLINE`` and at
        least five times ``timeout``, so a raised ``timeout`` is never undercut by the default)."""
        if self.answer_deadline is not None:
            return float(self.answer_deadline)
        return max(DEFAULT_ANSWER_DEADLINE, 5 * float(self.timeout))

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def ssl(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    @property
    def cursor_source(self) -> str:
        """Name under which the incremental cursor is stored in the state file."""
        return f"odoo:{self.db}"

    def password(self) -> str:
        """The password / API key, read from the environment variable named by ``password_env``."""
        value = os.environ.get(self.password_env)
        if not value:
            raise ConfigError(
                f"odoo setting 'password_env': environment variable {self.password_env} is not set; "
                f"export it with the password or API key of Odoo user {self.user!r}")
        return value

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OdooSettings:
        """Build from a profile's ``source:`` mapping; unknown keys are an error naming the key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"type", "kind"})
        if unknown:
            raise ConfigError(f"odoo settings: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        missing = [k for k in ("url", "db") if not data.get(k)]
        if missing:
            raise ConfigError(f"odoo settings: missing {', '.join(missing)}")
        kwargs = {k: v for k, v in data.items() if k in known}
        unset = {f.name for f in fields(cls) if f.default is None}  # a blank key there takes its default
        for key, value in kwargs.items():  # a typo in a number or a yes/no is named, never a traceback
            want = _KINDS.get(key)
            if value is None and key in unset:
                continue
            if want is not None and (isinstance(value, bool) != (want is bool) or not isinstance(value, want)):
                raise ConfigError(f"odoo setting {key!r}: expected {_KIND_WORDS[want]}, got {value!r}")
        for key in ("languages", "warehouses", "locations", "domain"):
            if key in kwargs and kwargs[key] is None:
                kwargs[key] = []
            if key in kwargs and not isinstance(kwargs[key], list):
                kwargs[key] = [kwargs[key]]
        return cls(**kwargs)


_KINDS: dict[str, type | tuple[type, ...]] = {
    "url": str, "db": str, "user": str, "password_env": str, "backend": str, "page_size": int,
    "overlap_seconds": int, "parallel_calls": int, "retries": int, "timeout": (int, float),
    "answer_deadline": (int, float),
    "include_image_bytes": bool, "read_stock": bool}
_KIND_WORDS: dict[type | tuple[type, ...], str] = {str: "a text", int: "a whole number", (int, float): "a number",
                                                   bool: "true or false"}
