"""Is an archived product the state does not know listed on the marketplace all the same?  (``archived.py``)

A listing the state does not know (made by hand or by another tool, a state file lost, a new machine or profile, a
run killed before it saved its state) must still be taken off sale when the product is archived in the source.  So
before such a product is skipped as never listed, the marketplace is asked, through its adapter's ``has_listing``
(Elebne: ``GET /products/{externalId}``; Elryan: the product search by ``spu``):

- listed: the product is planned as before (created: Elebne answers ``DUPLICATE_EXTERNAL_ID`` and the listing is
  adopted and updated, Elryan's upsert by ``spu`` updates it; either way inactive, stock 0), and the state then
  knows it;
- not listed: its rows are skipped (``ARCHIVED_NOT_LISTED``) and the answer is remembered in the state (the kind
  ``archived.not_listed``: product key -> when it was asked), so the runs of the next ``archived_check_hours``
  (setting, default 720: 30 days; 0 asks every run) do not ask again, ``sync --full`` neither (a nightly ``--full``
  would otherwise read the whole listing every night: the answers are a safety net for a lost state, which has
  none of them anyway);
- the lookup failed (unreachable, an error answer after the retries, the read budget spent): its rows are deferred
  (exit 3), never skipped as never listed; the products after it are not asked in this run (deferred too).

A dry run asks nothing (it works offline, as the rest of a dry run does): an archived product it does not know
and that is not remembered as not listed is shown skipped, saying that a real run looks it up first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.errors import BudgetExhausted, ConfigError, ConnectorError, MarketplaceUnreachable
from connector.http.client import RateLimitedTooLong, TransportError

CHECKED_KIND = "archived.not_listed"  # state kind: product key -> (hash: ISO time it was asked, body)
HOURS_SETTING = "archived_check_hours"
DEFAULT_HOURS = 720.0  # 30 days


class LookupFailed(ConnectorError):
    """The marketplace could not say whether it has a listing (an error answer after retries)."""


def check_hours(settings: dict[str, Any]) -> float:
    """The target's ``archived_check_hours`` (default 720); a negative or non-numeric value is a config error."""
    value = settings.get(HOURS_SETTING, DEFAULT_HOURS)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{HOURS_SETTING} must be a number of hours (0 or more), not {value!r}")
    return float(value)


@dataclass
class ListingLookup:
    """``key -> True`` (listed), ``False`` (not listed: asked now, or remembered), ``None`` (could not tell:
    ``failure`` says why).  ``write`` (a real run): the answers are remembered in the state (a dry run asks
    nothing: ``ArchivedSift`` looks at ``remembered`` only)."""

    state: Any
    marketplace: str
    account: str
    has_listing: Callable[[str], bool]
    hours: float = DEFAULT_HOURS
    write: bool = True
    asked: int = 0  # lookups sent this run
    failure: str | None = None
    _recent: set[str] | None = field(default=None, repr=False)

    def __call__(self, key: str) -> bool | None:
        if key in self._remembered():
            return False
        if self.failure is not None:  # the marketplace failed once in this run: not asked again
            return None
        self.asked += 1
        try:
            found = self.has_listing(key)
        except (LookupFailed, MarketplaceUnreachable, BudgetExhausted, TransportError, RateLimitedTooLong) as exc:
            self.failure = str(exc)
            return None
        if self.write:
            if found:
                self.state.forget(self.marketplace, self.account, CHECKED_KIND, key)
            else:
                now = datetime.now(UTC).isoformat()
                self.state.confirm(self.marketplace, self.account, CHECKED_KIND,
                                   [(key, now, json.dumps({"checked_at": now}), None)])
        return found

    def remembered(self, key: str) -> bool:
        """Whether ``key`` was asked within ``archived_check_hours`` and found not listed."""
        return key in self._remembered()

    def _remembered(self) -> set[str]:
        """Keys asked within ``hours`` and found not listed (read once per run)."""
        if self._recent is None:
            self._recent = set()
            if self.hours > 0:
                since = datetime.now(UTC) - timedelta(hours=self.hours)
                for key, asked_at in self.state.hashes(self.marketplace, self.account, CHECKED_KIND).items():
                    try:
                        when = datetime.fromisoformat(asked_at)
                    except ValueError:
                        continue  # (unreadable: asked again)
                    if when.tzinfo is not None and when > since:
                        self._recent.add(key)
        return self._recent
