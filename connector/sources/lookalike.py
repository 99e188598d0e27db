"""Characters that show as another, ordinary one in a SKU, and the SKU typed with the ordinary ones instead.

Spaces other than the space bar's (no-break, thin, ideographic), full-width ASCII and currency signs (East Asian
input methods), Arabic presentation forms (text copied from a PDF): a SKU holding one is another SKU than the one
typed with the ordinary character.  The workbook reader refuses such a cell (``spreadsheet/build.py``); the
missing policy keeps the listing synced under the ordinary form (``sync/missing.py``).  Only these characters are
folded: other compatibility characters (a superscript two, a ligature, the ordinal sign) make SKUs of their own,
and folding them would take ``TILE-M2`` for ``TILE-M²``.
"""

from __future__ import annotations

import re
import unicodedata

LOOK_ALIKE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufb50-\ufdff\ufe70-\ufefc"
                        "\uff01-\uff5e\uffe0-\uffe6]")


def plain_form(text: str) -> str:
    """``text`` with each look-alike character replaced by the ordinary one(s) it shows as (NFKC)."""
    return LOOK_ALIKE.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
