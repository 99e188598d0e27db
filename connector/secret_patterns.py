"""What a credential looks like as a value: the key formats of the API documents (docs/*.md) and a few generic
forms (bearer tokens, JSON Web Tokens, passwords in URLs, private keys).

Used to refuse a profile that holds a secret under any key name.  The patterns ask for enough random-looking
characters after a known prefix that ordinary values (URLs, names, ``api_key_env: ELEBNE_API_KEY``,
``b2b_prices``) do not match.  A match is reported by its kind, never by its text.
"""

from __future__ import annotations

import re

_EDGE = r"(?<![A-Za-z0-9])"
_TOKEN = r"[A-Za-z0-9._~+/=-]"

SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an EcomLinx API key (elx_…)", re.compile(_EDGE + r"elx_(?:live|test)_(?:sk|pk)_[A-Za-z0-9_]{8,}")),
    ("an Elebne API key (sk_… / pk_…)", re.compile(_EDGE + r"(?:sk|pk)_(?:live|test)_[A-Za-z0-9_]{8,}")),
    ("a webhook signing secret (whsec_…)", re.compile(_EDGE + r"whsec_[A-Za-z0-9_]{8,}")),
    # b2b_ is also an ordinary word prefix: a key has a digit somewhere (the sandbox's b2b_sandbox_demo0000 too)
    ("an Aleta B2B key (b2b_…)", re.compile(_EDGE + r"b2b_(?=[A-Za-z_]*[0-9])[A-Za-z0-9_]{8,}")),
    ("a JSON Web Token", re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")),
    # "Bearer <token>": a token has a digit or is long; "Bearer authentication" is prose
    ("a bearer token", re.compile(r"(?i:\bbearer)\s+(?=" + _TOKEN + r"*[0-9]|" + _TOKEN + r"{20})" + _TOKEN + "{8,}")),
    # "Basic <base64 of user:password>": base64 has a digit, '+', '/', '=' or a capital inside; prose does not
    ("a basic-auth credential",
     re.compile(r"(?i:\bbasic)\s+(?=[A-Za-z0-9+/]*(?:[0-9+/=]|[a-z][A-Z]))[A-Za-z0-9+/]{12,}={0,2}")),
    ("a URL with a password", re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:(?![$*{])[^/\s@]+@")),
    ("a credential in a URL query",
     re.compile(r"(?i)[?&](?:api_?key|access_token|token|password|secret)=(?![$*{])[^&#\s]{4,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)


def secret_kind(text: str) -> str | None:
    """What kind of credential ``text`` holds (e.g. "an Elebne API key (sk_… / pk_…)"), or ``None``."""
    for kind, pattern in SECRET_PATTERNS:
        if pattern.search(text):
            return kind
    return None
