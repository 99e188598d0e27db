"""Translations read by a connector user whose language is not en_US, on a real Odoo 18.

Odoo 16+ answers the en_US text for a language with no translation written.  The reader took a text equal to
the user's as missing, which holds when the user's language is en_US; for a French user a missing Arabic name
read as the English one, differed from the French, and was sent to the marketplace as Arabic without a word.
Now, when the user's language is not en_US and en_US is active, a text equal to the en_US one is missing too
(one more read per page, en_US's texts, unless en_US is one of the languages read).  While en_US is inactive
Odoo writes every language's text over the en_US one: there, a text equal to it is no sign of a missing one.

Recorded on Odoo 18 (``tests/fixtures/odoo_userlang_seed.py``, applied at record time), admin in fr_FR:
``setup_without_english`` (en_US inactive, products made in French) then one cassette; ``setup_with_english``
(en_US active, products made in English, translated or not) then two cassettes (languages ``ar_001``, then
``en_US`` and ``ar_001``).

A database of its own, made in French: http://127.0.0.1:8069, db ``odoo18_userlang``, or ``ODOO18_USERLANG_URL``
/ ``ODOO18_USERLANG_DB``; a fresh one with ``sale_management`` and ``stock`` made with
``--load-language=fr_FR,ar_001``; record with ``ODOO_RECORD=1 ODOO_PASSWORD=...``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from connector.model import Product
from connector.sources.base import SourceResult
from connector.sources.odoo import OdooSettings, OdooSource
from tests import odoo_vcr
from tests.odoo_vcr import RECORDING, Call, Target, odoo_cassette, odoo_test_env, recorded_calls, settings_kwargs
from tests.test_elryan_sync import DEFAULTS, Elryan, elryan  # noqa: F401 - the fixture

seed = odoo_vcr.load_fixture_module("odoo_userlang_seed")
TARGET = Target(18)
URL = os.environ.get("ODOO18_USERLANG_URL", "http://127.0.0.1:8069")
DB = os.environ.get("ODOO18_USERLANG_DB", "odoo18_userlang")
AR, FR, EN = seed.OTHER_LANG, seed.USER_LANG, seed.ENGLISH


@dataclass
class Read:
    result: SourceResult
    calls: list[Call]  # what the reader sent (version, login and user context left out)

    def products(self) -> dict[str, Product]:
        return {p.key: p for p in self.result.products}

    def warnings(self, key: str) -> list[str]:
        return sorted(i.reason for i in self.result.issues if i.reason.startswith(f"product {key!r}:"))

    def template_reads(self) -> list[str]:
        """The languages the templates were read in, one per call."""
        return [c.kwargs["context"]["lang"] for c in self.calls if c.model == "product.template"]


def _read(name: str, categ: str, languages: list[str]) -> Read:
    settings = OdooSettings(**settings_kwargs(TARGET, url=URL, db=DB, languages=languages, read_stock=False,
                                              domain=[["categ_id.name", "=", categ]]))
    with odoo_cassette(TARGET, name) as cass:
        result = OdooSource(settings).read()
        calls = recorded_calls(list(cass.requests)[:cass.play_count if not RECORDING else len(cass.requests)])
    return Read(result, calls)


@pytest.fixture(scope="module")
def reads() -> Iterator[dict[str, Read]]:
    rpc = (lambda: odoo_vcr.seed_data.Rpc(URL, DB, os.environ.get("ODOO_USER", "admin"), odoo_vcr.password(TARGET))) \
        if RECORDING else None
    with odoo_test_env(TARGET):
        out = {}
        if rpc:
            seed.setup_without_english(rpc())
        out["without_en"] = _read("userlang_1_en_inactive", seed.CATEG_WITHOUT_EN, [AR])
        if rpc:
            seed.setup_with_english(rpc())
        out["ar"] = _read("userlang_2_ar", seed.CATEG_WITH_EN, [AR])
        out["en_ar"] = _read("userlang_3_en_ar", seed.CATEG_WITH_EN, [EN, AR])
    yield out


def _missing(key: str, field: str, lang: str, same_as: str, sent: str | None) -> str:
    said = (f"product {key!r}: its {lang} {field} reads the same as its {same_as} one, as Odoo answers (with the "
            f"en_US text) where no {lang} translation was written: taken as missing, it is not sent as {lang}")
    if same_as == EN:
        said += f" (if it is the real {lang} one, give the product its own en_US {field} in Odoo)"
    if sent is None:
        return f"{said}; the product has no other {lang} text, so nothing of it is sent in {lang}"
    return f"{said}; its {lang} {sent} is sent, and with it the default mappings send its fr_FR {field} as the " \
           f"{lang} one (Elryan)"


def test_an_arabic_text_reading_as_the_english_one_is_not_sent(reads: dict[str, Read]) -> None:
    read = reads["ar"]
    got = read.products()
    assert {k: p.name for k, p in got.items()} == {k: t[FR]["name"] if FR in t else t[EN]["name"]
                                                   for k, t in seed.WITH_EN.items()}  # the user's language
    assert got["UL-ALL"].translations == {AR: seed.WITH_EN["UL-ALL"][AR]}
    assert got["UL-NO-AR"].translations == {}  # was {"ar_001": {"name": "Wool scarf"}}
    assert got["UL-AR-NAME"].translations == {AR: {"name": "حزام جلد"}}  # was with "Brown leather belt"
    assert got["UL-EN"].translations == {}
    assert read.warnings("UL-ALL") == []
    assert read.warnings("UL-NO-AR") == [_missing("UL-NO-AR", "name", AR, EN, None)]
    assert read.warnings("UL-AR-NAME") == [_missing("UL-AR-NAME", "sales description", AR, EN, "name")]
    # made in English, never translated: its French (the user's) text is the English one, as before
    assert read.warnings("UL-EN") == [_missing("UL-EN", "name", AR, FR, None)]
    issues = [i for i in read.result.issues if i.reason.startswith("product 'UL-NO-AR'")]
    assert [(i.severity, i.sheet, i.column, i.value) for i in issues] == \
        [("warning", "product.template", "name", "Wool scarf")]


def test_the_english_texts_cost_one_read_per_page(reads: dict[str, Read]) -> None:
    read = reads["ar"]
    assert read.template_reads() == [AR, EN]  # one page
    lang_reads = [c for c in read.calls if c.model == "res.lang"]
    assert len(lang_reads) == 1 and lang_reads[0].kwargs["domain"] == [["code", "in", [AR, EN]]]
    # docs/odoo.md: 7 + pages x (4 + languages), +1 per page for en_US; -2 without warehouse and location calls
    # (read_stock: false), -1 and -2 for a page without attribute values and without stocked variants;
    # recorded_calls leaves the version, the login and the user context out
    assert len(read.calls) + 3 == 7 + (4 + 1) + 1 - 2 - 1 - 2
    # the same read with en_US among the languages, and one with en_US inactive (nothing to compare): one less
    assert len(reads["en_ar"].calls) == len(read.calls) == len(reads["without_en"].calls) + 1


def test_with_en_US_among_the_languages_its_read_serves_and_none_is_added(reads: dict[str, Read]) -> None:
    read = reads["en_ar"]
    got = read.products()
    assert read.template_reads() == [EN, AR]
    assert got["UL-NO-AR"].translations == {EN: {"name": "Wool scarf"}}  # sent as en_US, never as ar_001
    assert got["UL-AR-NAME"].translations == {EN: seed.WITH_EN["UL-AR-NAME"][EN], AR: {"name": "حزام جلد"}}
    assert read.warnings("UL-NO-AR") == [_missing("UL-NO-AR", "name", AR, EN, None)]
    assert read.warnings("UL-EN") == sorted(_missing("UL-EN", "name", lang, FR, None) for lang in (AR, EN))


def test_while_en_US_is_inactive_a_text_equal_to_it_is_sent(reads: dict[str, Read]) -> None:
    """Odoo wrote the Arabic name over the en_US one: it is the real one, and no en_US read is sent."""
    read = reads["without_en"]
    got = read.products()
    assert got["UL-FR-AR"].translations == {AR: {"name": "قميص كتان"}}
    assert got["UL-FR"].translations == {}
    assert read.warnings("UL-FR-AR") == []
    assert read.warnings("UL-FR") == [_missing("UL-FR", "name", AR, FR, None)]
    assert read.template_reads() == [AR]


@pytest.mark.sandbox
def test_elryan_gets_no_english_text_as_the_arabic_one(reads: dict[str, Read], elryan: Elryan) -> None:  # noqa: F811
    outcome = elryan.sync(reads["ar"].result, defaults={**DEFAULTS, "brand": "Maison Test"})
    remote = {v["sku"]: p for p in elryan.state()["products"] for v in p["variants"]}
    assert set(remote) == set(seed.WITH_EN), outcome.report.to_json()["rows"]
    names = {sku: {t["language"]: t["name"] for t in p["translations"]} for sku, p in remote.items()}
    assert names == {"UL-ALL": {"ar": "قميص كتان"}, "UL-NO-AR": {}, "UL-AR-NAME": {"ar": "حزام جلد"}, "UL-EN": {}}
