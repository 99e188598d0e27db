"""Webhook signatures: an HMAC of the *raw* body with the webhook's secret, in hex, behind an optional prefix
(``sha256=<hex>``).  EcomLinx documents HMAC-SHA256; Elebne's scheme is inferred from it and configurable."""

from __future__ import annotations

import hmac

ALGORITHMS = ("sha1", "sha256", "sha384", "sha512")


def check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"webhook signature algorithm {algorithm!r}: one of {', '.join(ALGORITHMS)}")
    return algorithm


def expected_signature(secret: str | bytes, body: bytes, algorithm: str = "sha256") -> str:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, body, check_algorithm(algorithm)).hexdigest()


def sign(secret: str | bytes, body: bytes, algorithm: str = "sha256", prefix: str = "sha256=") -> str:
    """The header value a sender puts on ``body``."""
    return prefix + expected_signature(secret, body, algorithm)


def verify_signature(secret: str | bytes, body: bytes, header: str | None, algorithm: str = "sha256",
                     prefix: str = "sha256=") -> bool:
    """True when ``header`` (``<prefix><hex>``, the prefix in any case, or the bare hex) is the HMAC of ``body``."""
    if not header or not secret:
        return False
    value = header.strip()
    if prefix and value.lower().startswith(prefix.lower()):
        value = value[len(prefix):]
    return hmac.compare_digest(value.lower().encode("ascii", "replace"),
                               expected_signature(secret, body, algorithm).encode("ascii"))
