"""Fingerprints of canonical records, so a plan maps again only the records that changed.

A confirmed payload in the state is marked with the fingerprint of the record it was mapped from
(``StateStore.mark_records``).  The fingerprint covers everything that feeds the payload:

- the record as the plan receives it, every field of it (``repr`` of the canonical dataclasses: stock levels,
  the listed quantity the stock policy and any reservation left in ``Variant.qty``, prices after currency
  conversion, the source reference), and
- the mapping context: the mapping files' content (``extends`` included), the profile's defaults, the target's
  settings, the adapter and the connector version.

A record whose fingerprint equals the mark of every payload kind maps, by construction, to the payloads already
confirmed: it is unchanged without being mapped.  Anything a fingerprint cannot tell apart safely (an object
printed with its memory address, a set whose order changes between runs) only makes the fingerprint differ,
and the record is mapped as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connector import __version__
from connector.jsonutil import digest
from connector.mapping import CompiledMapping


def mapping_context(mapping: CompiledMapping, adapter: Any, defaults: dict[str, Any] | None,
                    settings: dict[str, Any] | None) -> str | None:
    """The fingerprint of what, besides the record, decides its payloads; None when the mapping's files are not
    known (a mapping compiled in memory): records are then always mapped."""
    if not mapping.source_files:
        return None
    files = []
    for name in mapping.source_files:
        try:
            files.append(digest(Path(name).read_bytes().decode("utf-8", "replace")))
        except OSError:
            return None
    kind = type(adapter)
    text = json.dumps([__version__, f"{kind.__module__}.{kind.__qualname__}", mapping.marketplace, mapping.record,
                       files, defaults or {}, settings or {}], sort_keys=True, default=repr, ensure_ascii=False)
    return digest(text)


def record_fingerprint(record: Any, context: str) -> str:
    """The fingerprint of one canonical record under a mapping context (see the module's docstring)."""
    return digest(context + repr(record))
