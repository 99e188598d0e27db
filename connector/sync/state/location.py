"""Where a state lives: a file (SQLite) or a ``postgresql://`` URL, and how a location is shown.

A PostgreSQL location may name the schema that holds one profile's state with the connector's own query
parameter ``schema=`` (removed before connecting); a profile's state without one is kept in the schema
``connector_<profile name>`` (``with_namespace``).  Passwords in a URL are never shown: ``shown`` hides them,
``scrub`` removes them from any text (a driver's error message).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")
SCHEMA_PARAM = "schema"
SHARED_SCHEMA = "connector_shared"
"""The schema every profile of a database shares: the API budgets (``postgres``); no profile's own."""
STATE_URL_ENV = "CONNECTOR_STATE_URL"
"""A global setting: the PostgreSQL state of every profile whose own ``state:`` is not given."""

Location = str | Path


def is_database_url(location: Location | None) -> bool:
    return location is not None and str(location).lower().startswith(SCHEMES)


def state_location(text: str) -> Location:
    """A ``--state`` value as given: a URL stays text (``Path`` would fold its ``//``), anything else is a file."""
    return text if is_database_url(text) else Path(text)


def split_schema(url: str) -> tuple[str, str | None]:
    """(the URL without the connector's ``schema=`` parameter, that schema or None)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == SCHEMA_PARAM), None)
    rest = urlencode([(k, v) for k, v in query if k != SCHEMA_PARAM])
    return urlunsplit(parts._replace(query=rest)), schema


def schema_name(name: str) -> str:
    """A PostgreSQL schema name for a profile: ``connector_`` and the name in lower-case letters, digits and
    ``_``; a name that had to be changed (or cut to PostgreSQL's 63 bytes, or that would be the shared schema)
    ends with a short hash of itself, so two different profile names never share a schema."""
    plain = re.sub(r"[^a-z0-9_]", "_", name.lower())
    out = f"connector_{plain}"
    if plain != name or len(out) > 63 or out == SHARED_SCHEMA:
        out = f"{out[:54]}_{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return out


def with_namespace(location: Location, profile: str) -> Location:
    """A PostgreSQL location without a schema gets the profile's own (files are per profile already)."""
    if not is_database_url(location):
        return location
    url, schema = split_schema(str(location))
    if schema:
        return location
    sep = "&" if urlsplit(url).query else "?"
    return f"{url}{sep}{SCHEMA_PARAM}={quote(schema_name(profile))}"


def global_state_url() -> str | None:
    value = os.environ.get(STATE_URL_ENV, "").strip()
    return value or None


def shown(location: Location) -> str:
    """The location as it may appear in a message, a log or a report: a URL without its password."""
    text = str(location)
    if not is_database_url(text):
        return text
    parts = urlsplit(text)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*/")))


def secrets_of(location: Location) -> list[str]:
    """The password(s) a URL holds, as written and decoded: what ``scrub`` removes from texts."""
    text = str(location)
    if not is_database_url(text):
        return []
    parts = urlsplit(text)
    found = [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() == "password" and v]
    if parts.password:
        found += [parts.password, unquote(parts.password)]
    return [s for s in found if s]


def scrub(text: str, location: Location) -> str:
    """``text`` with every password of ``location`` replaced by ``***``."""
    for secret in sorted(secrets_of(location), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def reason_of(exc: BaseException, location: Location) -> str:
    """The first line of an error's text (its type's name when it has none), every password scrubbed: how a
    database error is told in one line."""
    text = str(exc).strip()
    return scrub(text.splitlines()[0] if text else type(exc).__name__, location)


def report_anchor(location: Location, state_dir: Path) -> Path:
    """The file name reports are kept beside: the state file itself, or for a PostgreSQL state a name in the
    default state folder after its schema (reports are files on the machine that ran)."""
    if not is_database_url(location):
        return Path(location)
    _, schema = split_schema(str(location))
    return state_dir / f"{schema or 'connector'}.postgresql"
