"""Which fields customers see a plan would empty on many listed products at once (the mass-change guard's other half).

An empty cell in a kept column is sent as empty (README): clearing one product's description is meant.  Clearing
it on most of the listed products in one run is what a column emptied by mistake, a sheet pasted from another
template or a feed that lost a field looks like, and it takes the text or the pictures off live listings.  So the
guard (``guard.py``) also counts, per field of a catalogue payload, the listed products whose value an update
would make empty (``None``, ``""``, blank text, ``[]``, ``{}``) where the marketplace's confirmed value is not, and
holds the run past the same share of the listed products (``max_share``) as for stock set to 0.

Only updates are looked at (a create has nothing to clear) and only their changed fields, so a run that clears
nothing reads no confirmed body.  A field inside the children of a matched list (Elebne ``variants``, by label) is
compared with the confirmed child of the same match value, and named ``variants[].barcode``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connector.sync.confirmed import ConfirmedBodies
from connector.sync.payload_shape import KindShape, match_value
from connector.sync.plan import CATALOGUE, Plan


def blank(value: Any) -> bool:
    """Whether a payload value shows nothing: none, empty or blank text, an empty list or table."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def cleared_fields(plan: Plan, bodies: ConfirmedBodies, shapes: dict[str, KindShape]) -> dict[str, set[str]]:
    """Field name -> the keys of listed products whose value this plan's updates would empty."""
    suspects: dict[str, list[Any]] = {}  # kind -> update ops that send an empty value somewhere
    for op in plan.ops:
        if op.action == "update" and plan.roles.get(op.kind) == CATALOGUE and _sends_blank(op.body):
            suspects.setdefault(op.kind, []).append(op)
    out: dict[str, set[str]] = {}
    for kind, ops in suspects.items():
        old = bodies.get(kind, [op.key for op in ops])
        keys = shapes[kind].match_keys if kind in shapes else {}
        for op in ops:
            for name in _emptied(op.body, old.get(op.key) or {}, keys):
                out.setdefault(name, set()).add(op.key)
    return out


def _sends_blank(value: Any) -> bool:
    """Whether ``value`` holds an empty value anywhere, stepping into tables and lists of tables."""
    if blank(value):
        return True
    if isinstance(value, dict):
        return any(map(_sends_blank, value.values()))
    return isinstance(value, list) and all(isinstance(x, dict) for x in value) and any(map(_sends_blank, value))


def _emptied(new: dict[str, Any], old: dict[str, Any], match_keys: dict[str, str]) -> set[str]:
    """Names of the fields ``new`` (an update's changed fields) empties where ``old`` (confirmed) shows something."""
    out: set[str] = set()
    for prefix, _label, table, before in matched_tables(new, old, match_keys):
        out.update(prefix + path for path in _emptied_paths(table, before))
    return out


def matched_tables(new: dict[str, Any], old: dict[str, Any], match_keys: dict[str, str]
                   ) -> Iterator[tuple[str, Any, dict[str, Any], dict[str, Any] | None]]:
    """What an update's changed fields ``new`` are compared with in ``old`` (the confirmed body): (name prefix,
    child label, new table, old table or None).  Each child of a matched list (by ``match_keys``) with the
    confirmed child of the same match value, its fields named ``variants[].barcode`` (prefix ``variants[].``, label
    the child's match key value as written); then the other fields with ``old`` itself (prefix ``""``, label
    None)."""
    plain: dict[str, Any] = {}
    for name, value in new.items():
        mk = match_keys.get(name)
        if mk is None or not isinstance(value, list):
            plain[name] = value
            continue
        before = {match_value(c, mk): c for c in old.get(name) or [] if isinstance(c, dict)}
        for child in value:
            if isinstance(child, dict):
                yield f"{name}[].", child.get(mk), child, before.get(match_value(child, mk))
    yield "", None, plain, old


def _emptied_paths(new: dict[str, Any], old: Any) -> Iterator[str]:
    """Dotted paths of the empty values of the table ``new`` whose counterpart in ``old`` is not empty."""
    old = old if isinstance(old, dict) else {}
    for k, v in new.items():
        was = old.get(k)
        if blank(v):
            if not blank(was):
                yield str(k)
        elif isinstance(v, dict):
            yield from (f"{k}.{path}" for path in _emptied_paths(v, was))
