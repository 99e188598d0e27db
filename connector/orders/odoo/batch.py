"""One call for a page; when Odoo refuses it, one call per record, so only the refused records fail.

Odoo runs each RPC call in one transaction: a refused ``create`` of a list creates nothing, so trying the
records one by one afterwards never makes a record twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from connector.sources.odoo.backend import OdooBackend, OdooRPCError, OdooUnreachable

T = TypeVar("T")


def each_or_refusal(items: list[T], call: Callable[[list[T]], list[Any]]) -> list[Any | OdooRPCError]:
    """``call(items)`` once; if Odoo refuses it, ``call([item])`` per item: a result or the refusal, per item."""
    if not items:
        return []
    try:
        return list(call(items))
    except OdooRPCError:
        if len(items) == 1:
            raise
    return one_by_one(items, call)


def one_by_one(items: list[T], call: Callable[[list[T]], list[Any]]) -> list[Any | OdooRPCError]:
    """``call([item])`` per item.  An answer lost on the way (``OdooUnreachable``) stops there: the exception
    carries the results of the items before it (``partial``), which went through, so the caller can record them
    (a write is never sent twice by this module)."""
    out: list[Any | OdooRPCError] = []
    for item in items:
        try:
            out.append(call([item])[0])
        except OdooRPCError as exc:
            out.append(exc)
        except OdooUnreachable as exc:
            exc.partial = out  # type: ignore[attr-defined]
            raise
    return out


def create_each(backend: OdooBackend, model: str, vals_list: list[dict[str, Any]],
                context: dict[str, Any] | None = None) -> list[int | OdooRPCError]:
    try:
        return each_or_refusal(vals_list, lambda vals: backend.create(model, vals, context))
    except OdooRPCError as exc:  # a single record refused
        return [exc]


def create_page(backend: OdooBackend, model: str, vals_list: list[dict[str, Any]],
                fresh: Callable[[], list[dict[str, Any]] | None]) -> list[int | OdooRPCError]:
    """``create_each``, except that when Odoo refuses the whole page and ``fresh()`` gives it built anew (ids
    from an earlier run dropped and looked up again), that page is created instead, once."""
    if not vals_list:
        return []
    try:
        return list(backend.create(model, vals_list))
    except OdooRPCError as exc:
        again = fresh()
        if again is not None:
            return create_each(backend, model, again)
        if len(vals_list) == 1:
            return [exc]
    return one_by_one(vals_list, lambda vals: backend.create(model, vals))


def call_each(backend: OdooBackend, model: str, method: str, ids: list[int],
              context: dict[str, Any] | None = None) -> list[bool | OdooRPCError]:
    """``model.method(ids)`` (e.g. ``action_confirm``) for the page; True per record that went through."""

    def run(chunk: list[int]) -> list[bool]:
        backend.call_on(model, method, chunk, context)
        return [True] * len(chunk)

    try:
        return each_or_refusal(ids, run)
    except OdooRPCError as exc:  # a single record refused
        return [exc]
