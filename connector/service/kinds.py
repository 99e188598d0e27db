"""What a job of each kind runs: the command line of ``connector`` it stands for.

A job runs the very code path a person runs by hand (``connector.cli.main`` with the same arguments), so a job
and ``connector sync --profile P --target T`` can never drift apart.  Orders (``connector orders``) and
fulfilment (``connector fulfil``) plug in as one ``Kind`` each: ``register_kind`` below, or the built-in entry
that appears once the command exists in this installation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from connector.errors import ConfigError


@dataclass(frozen=True)
class Kind:
    name: str
    help: str
    argv: Callable[[str, str], list[str]]  # (profile path, target) -> the connector command line


_KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    _KINDS[kind.name] = kind


def _sync(*extra: str) -> Callable[[str, str], list[str]]:
    return lambda profile, target: ["sync", "--profile", profile, "--target", target, "--no-progress", *extra]


register_kind(Kind("catalogue", "everything the source has (a full read): products, prices and stock", _sync("--full")))
register_kind(Kind("stock", "what changed since the last run (incremental read where the source has a cursor)",
                   _sync()))
register_kind(Kind("watch", "one cheap poll of the source's cursor; a stock push only when something changed",
                   lambda profile, target: ["watch", "--profile", profile, "--target", target, "--once"]))


def _command_exists(name: str) -> bool:
    """True when this installation's ``connector`` has the sub-command ``name`` (issues 13 and 14 add them)."""
    return name in _commands()


@functools.cache
def _commands() -> frozenset[str]:
    from connector.cli import _parser

    parser = _parser()
    return frozenset(name for action in (parser._subparsers._group_actions if parser._subparsers else ())
                     for name in (getattr(action, "choices", None) or {}))


#: kinds whose command other issues add, offered once this installation's connector has it:
#: kind -> (help, the command, its extra arguments)
_PLUGGABLE = {
    "orders": ("new and changed orders pulled from the marketplace into the destination (issue 13)", "orders",
               ["--no-progress"]),
    "fulfilment": ("validated deliveries' tracking numbers (and cancellations) pushed to the marketplace (issue 14)",
                   "fulfil", []),
}


def kinds() -> dict[str, Kind]:
    """The registered kinds, and the pluggable ones whose command this installation has."""
    found = dict(_KINDS)
    for name, (help_text, command, extra) in _PLUGGABLE.items():
        if name not in found and _command_exists(command):
            found[name] = Kind(name, help_text, lambda profile, target, c=command, x=tuple(extra): [
                c, "--profile", profile, "--target", target, *x])
    return found


def get_kind(name: str) -> Kind:
    known = kinds()
    if name not in known:
        missing = (f"; this installation has no `connector {_PLUGGABLE[name][1]}` command yet"
                   if name in _PLUGGABLE else "")
        raise ConfigError(f"unknown job kind {name!r} (known: {', '.join(known)}){missing}")
    return known[name]
