"""Exception types shared by every layer.

User mistakes (bad config, bad file, bad mapping) raise ``UserError`` subclasses: the CLI prints their
message without a traceback and exits with ``EXIT_USAGE``.
"""

from __future__ import annotations

# Exit codes: what cron sees.
EXIT_OK = 0  # everything pushed or unchanged
EXIT_FAILED = 1  # the run finished but some rows/SKUs failed or were skipped as invalid
EXIT_USAGE = 2  # bad command line, config, mapping or unreadable input: nothing was sent
EXIT_PARTIAL = 3  # a daily budget ran out: state is saved, the next run carries on
EXIT_UNREACHABLE = 4  # the marketplace or source could not be reached / refused the credentials
EXIT_LOCKED = 5  # another run holds the state file


class ConnectorError(Exception):
    """Base of every error this package raises on purpose."""


class UserError(ConnectorError):
    """A mistake the user can fix: printed as a message, never a traceback."""

    exit_code = EXIT_USAGE


class ConfigError(UserError):
    """Bad profile, missing credentials, unknown marketplace."""


class MappingError(UserError):
    """A mapping file is invalid.  The message names the file, the key path and the line."""

    def __init__(self, message: str, *, file: str | None = None, path: str | None = None,
                 line: int | None = None) -> None:
        self.file, self.path, self.line = file, path, line
        where = ":".join(str(p) for p in (file, line) if p is not None)
        prefix = f"{where}: " if where else ""
        at = f"{path}: " if path else ""
        super().__init__(f"{prefix}{at}{message}")


class SourceError(UserError):
    """The source cannot be read at all (missing file, unknown format, unreachable ERP)."""


class StateLockedError(UserError):
    exit_code = EXIT_LOCKED


class MarketplaceUnreachable(ConnectorError):
    """Network failure or authentication refused after retries: the run cannot continue."""

    exit_code = EXIT_UNREACHABLE


class BudgetExhausted(ConnectorError):
    """A per-day call budget is spent; the run stops cleanly and the next one resumes."""

    def __init__(self, op_class: str, limit: int) -> None:
        self.op_class, self.limit = op_class, limit
        super().__init__(f"daily budget for '{op_class}' calls is spent ({limit}/day); the next run carries on")
