"""No cassette may hold a credential: Authorization headers, API keys, passwords, session cookies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"

LEAKS = [
    ("Authorization header", re.compile(r"^\s*['\"]?authorization['\"]?\s*:", re.I | re.M)),
    ("bearer token", re.compile(r"bearer\s+[A-Za-z0-9_\-.]{6,}", re.I)),
    ("Odoo API key", re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{40}(?![0-9A-Za-z])")),  # 20 random bytes in hex (JSON-2)
    ("Elebne key", re.compile(r"\b(sk|pk)_(test|live)_[A-Za-z0-9]{4,}")),
    ("EcomLinx key", re.compile(r"elx_(live|test)_sk_[a-f0-9]{8,}")),
    ("Aleta key", re.compile(r"\bb2b_[A-Za-z0-9]{8,}")),
    ("api_key in a URL", re.compile(r"api_key=(?!\*\*\*)[A-Za-z0-9_\-]{4,}", re.I)),
    ("password value", re.compile(r"['\"]?password['\"]?\s*[:=]\s*['\"]?(?!\*\*\*|['\"]?\s*$|null|false)[^\s,'\"}]{2,}",
                                  re.I)),
    ("session cookie", re.compile(r"session_id=(?!\*\*\*)[A-Za-z0-9]{8,}")),
    ("Set-Cookie header", re.compile(r"^\s*['\"]?set-cookie['\"]?\s*:", re.I | re.M)),
]


def find_leaks(text: str) -> list[str]:
    return [name for name, pattern in LEAKS if pattern.search(text)]


def cassette_files() -> list[Path]:
    return sorted(p for p in CASSETTES.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))


def test_there_are_cassettes_to_check() -> None:
    assert cassette_files(), "no cassettes found: the scan below would pass vacuously"


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_holds_no_secret(path: Path) -> None:
    leaks = find_leaks(path.read_text(encoding="utf-8", errors="replace"))
    assert not leaks, f"{path} seems to hold: {', '.join(leaks)}"


# a server's traceback quotes its source (Odoo's paths and lines): recorded answers keep "***" in its place
SOURCE_QUOTE = re.compile(r"Traceback \(most recent call last\)|File \\?\"[^\"\\]*\.py\\?\", *line \d+")


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_quotes_no_server_source(path: Path) -> None:
    found = SOURCE_QUOTE.search(path.read_text(encoding="utf-8", errors="replace"))
    assert found is None, f"{path} quotes a server's source: {found.group()!r}"


def test_the_source_scanner_catches_a_traceback() -> None:
    recorded = ('"debug": "Traceback (most recent call last):\\n  File \\"/opt/odoo18/odoo/api.py\\", '
                'line 535, in call_kw"')
    assert SOURCE_QUOTE.search(recorded) and SOURCE_QUOTE.search(recorded.replace("Traceback", "Trace"))


@pytest.mark.parametrize("text", [
    "headers:\n  Authorization:\n  - Bearer sk_test_abcdef123\n",
    "uri: https://x/products?api_key=b2b_live1234567",
    'body: \'{"params": {"db": "x", "login": "admin", "password": "admin"}}\'',
    "Cookie: session_id=0123456789abcdef",
    "X-Odoo-Database: shop\nbody: '{\"key\": \"3f9a1c0e5b7d2a4c6e8f0a1b3c5d7e9f1a2b3c4d\"}'",
])
def test_the_scanner_catches_leaks(text: str) -> None:
    assert find_leaks(text)


def test_the_scanner_accepts_scrubbed_text() -> None:
    assert find_leaks('body: \'{"password": "***"}\'\nuri: https://x/p?api_key=***\n') == []


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_the_network_beyond_loopback_is_blocked() -> None:
    """CI replays cassettes and talks to sandboxes on loopback only; anything else must fail loudly."""
    import socket

    with pytest.raises(Exception) as exc:
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: never routable
    assert "SocketConnectBlockedError" in type(exc.value).__name__ or "not allowed" in str(exc.value).lower()
