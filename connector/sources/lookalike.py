"""Characters that show as another, ordinary one in a SKU, and the SKU typed with the ordinary ones instead.

Spaces other than the space bar's (no-break, thin, ideographic), full-width ASCII and currency signs (East Asian
input methods), Arabic presentation forms (text copied from a PDF): a SKU holding one is another SKU than the one
typed with the ordinary character.  The workbook reader refuses such a cell (``spreadsheet/build.py``); the
missing policy keeps the listing synced under the ordinary form (``sync/missing.py``).  Only these characters are
folded: other compatibility characters (a superscript two, a ligature, the ordinal sign) make SKUs of their own,
and folding them would take ``TILE-M2`` for ``TILE-M²``.  Of those blocks, a character with no ordinary form (an
ornate parenthesis, an Arabic symbol: NFKC leaves it as it is) looks like nothing else and is not one: the merchant
could not type "the ordinary one" instead.
"""

from __future__ import annotations

import re
import unicodedata

_BLOCKS = ((0x00A0, 0x00A0), (0x1680, 0x1680), (0x2000, 0x200A), (0x202F, 0x202F), (0x205F, 0x205F),
           (0x3000, 0x3000), (0xFB50, 0xFDFF), (0xFE70, 0xFEFC), (0xFF01, 0xFF5E), (0xFFE0, 0xFFE6))


def plain_char(ch: str) -> str:
    """What a look-alike character shows as: a plain space for any space, else its NFKC form."""
    return " " if ch.isspace() else unicodedata.normalize("NFKC", ch)


LOOK_ALIKE = re.compile("[" + "".join(re.escape(chr(c)) for lo, hi in _BLOCKS for c in range(lo, hi + 1)
                                      if plain_char(chr(c)) != chr(c)) + "]")


def plain_form(text: str) -> str:
    """``text`` with each look-alike character replaced by the ordinary one(s) it shows as."""
    return LOOK_ALIKE.sub(lambda m: plain_char(m.group()), text)
