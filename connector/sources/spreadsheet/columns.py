"""Column specifications of the spreadsheet template, their FR/AR/EN labels and aliases, and header matching.

Headers are matched by *name*, never by position: case-insensitive, accents stripped, spaces collapsed,
``*`` (required marker) ignored, a parenthesised unit such as "(kg)" ignored, FR/AR/EN aliases accepted.
Three families of dynamic columns exist besides the fixed ones:

- ``Attribute: <name>`` (FR ``Attribut : <nom>``, AR ``السمة: <name>``): one variant attribute per column;
- ``Name (fr)`` / ``Description (ar)`` ...: translations, keyed ``fr_FR`` / ``ar_001`` / ``en_US``;
- ``Stock: <Location>`` (FR ``Stock : <lieu>``, AR ``المخزون: <location>``): inline available quantity.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

LANGS = ("en", "fr", "ar")

# Column kinds (how a cell is converted, see cells.py)
TEXT = "text"
DECIMAL = "decimal"
INTEGER = "integer"
BOOL = "bool"
LIST = "list"
PATH = "path"
CURRENCY = "currency"

# Marker of example rows: a row whose SKU starts with one of these (case-insensitive) is skipped.
EXAMPLE_PREFIXES = ("example-", "exemple-", "مثال-")
EXAMPLE_SKU_PREFIX = {"en": "EXAMPLE-", "fr": "EXEMPLE-", "ar": "مثال-"}

LOCALES = {"fr": "fr_FR", "ar": "ar_001", "en": "en_US"}


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One fixed column of the Products sheet (or of a stock sheet)."""

    key: str  # canonical key, e.g. "price"
    kind: str  # TEXT, DECIMAL, ...
    labels: dict[str, str]  # language -> header label, without the "*" marker
    notes: dict[str, str]  # language -> explanation shown as a comment on the header
    required: bool = False
    aliases: tuple[str, ...] = ()
    text_format: bool = False  # formatted "@" in the template so leading zeros survive
    width: int = 14
    level: str = "variant"  # "product": shared by the variants of one product; "variant": per row
    nonnegative: bool = False
    positive: bool = False  # 0 refused as well (a price: a product is never put on sale for nothing)

    def header(self, lang: str) -> str:
        return self.labels[lang] + ("*" if self.required else "")


def _c(key: str, kind: str, en: str, fr: str, ar: str, notes: tuple[str, str, str], **kw) -> ColumnSpec:
    return ColumnSpec(key, kind, {"en": en, "fr": fr, "ar": ar}, dict(zip(LANGS, notes, strict=True)), **kw)


PRODUCT_COLUMNS: tuple[ColumnSpec, ...] = (
    _c("parent_sku", TEXT, "Parent SKU", "SKU parent", "رمز المنتج الأب", (
        "Leave blank for a simple product. Variants of one product (sizes, colours) share the same "
        "Parent SKU, one row per variant.",
        "Laisser vide pour un produit simple. Les déclinaisons d'un même produit (tailles, couleurs) "
        "partagent le même SKU parent, une ligne par déclinaison.",
        "اتركه فارغًا للمنتج البسيط. متغيرات المنتج الواحد (المقاسات، الألوان) تشترك في نفس رمز المنتج "
        "الأب، سطر لكل متغير.",
    ), aliases=("parent", "parent sku", "sku parent", "parent reference", "reference parent",
                "sku الاب", "sku الأب", "رمز الأب"), text_format=True, width=16, level="product"),
    _c("sku", TEXT, "SKU", "SKU", "رمز المنتج", (
        "Required. Your unique code for this item (one row per SKU). Rows whose SKU starts with "
        "EXAMPLE- are examples and are ignored.",
        "Obligatoire. Votre code unique pour cet article (une ligne par SKU). Les lignes dont le SKU "
        "commence par EXEMPLE- sont des exemples et sont ignorées.",
        "إلزامي. رمزك الفريد لهذا الصنف (سطر لكل رمز). الأسطر التي يبدأ رمزها بـ مثال- هي أمثلة "
        "ويتم تجاهلها.",
    ), required=True, aliases=("sku", "reference", "ref", "code article", "item code", "رمز sku",
                               "رمز الصنف"), text_format=True, width=18),
    _c("name", TEXT, "Name", "Nom", "الاسم", (
        "Required on the first row of each product. Variant rows may leave it blank (inherited).",
        "Obligatoire sur la première ligne de chaque produit. Les lignes de déclinaison peuvent le "
        "laisser vide (hérité).",
        "إلزامي في السطر الأول لكل منتج. يمكن ترك أسطر المتغيرات فارغة (تُورث).",
    ), required=True, aliases=("product name", "title", "nom du produit", "designation", "libelle",
                               "اسم المنتج"), width=30, level="product"),
    _c("description", TEXT, "Description", "Description", "الوصف", (
        "Product description. Blank on variant rows = inherited from the first row.",
        "Description du produit. Vide sur les lignes de déclinaison = héritée de la première ligne.",
        "وصف المنتج. الفراغ في أسطر المتغيرات = يُورث من السطر الأول.",
    ), aliases=("long description", "description longue"), width=40, level="product"),
    _c("brand", TEXT, "Brand", "Marque", "العلامة التجارية", (
        "Brand name.", "Nom de la marque.", "اسم العلامة التجارية.",
    ), aliases=("manufacturer", "fabricant", "الماركة"), width=16, level="product"),
    _c("category", PATH, "Category", "Catégorie", "الفئة", (
        "Category path from the root, levels separated by '>', e.g. Home > Kitchen.",
        "Chemin de catégorie depuis la racine, niveaux séparés par '>', ex. Maison > Cuisine.",
        "مسار الفئة من الجذر، المستويات مفصولة بـ '>'، مثل: المنزل > المطبخ.",
    ), aliases=("category path", "categorie", "chemin de categorie", "التصنيف"), width=28,
        level="product"),
    _c("price", DECIMAL, "Price", "Prix", "السعر", (
        "Required. Selling price above 0, a number (12.50 or 12,50), no currency sign, with no more decimals "
        "than the shop's currency has (2 for most).",
        "Obligatoire. Prix de vente supérieur à 0, un nombre (12.50 ou 12,50), sans symbole monétaire, sans plus "
        "de décimales que la devise de la boutique (2 pour la plupart).",
        "إلزامي. سعر البيع أكبر من 0، رقم (12.50 أو 12,50) بدون رمز العملة، دون منازل عشرية أكثر مما تسمح به "
        "عملة المتجر (2 لمعظم العملات).",
    ), required=True, aliases=("sale price", "selling price", "prix de vente", "sales price",
                               "سعر البيع"), nonnegative=True, positive=True, width=12),
    _c("currency", CURRENCY, "Currency", "Devise", "العملة", (
        "3-letter currency code (MRU, EUR, USD...). Blank = the default currency of the import.",
        "Code devise à 3 lettres (MRU, EUR, USD...). Vide = la devise par défaut de l'import.",
        "رمز العملة من 3 أحرف (MRU, EUR, USD...). فارغ = العملة الافتراضية.",
    ), aliases=("monnaie",), width=10),
    _c("cost", DECIMAL, "Cost", "Coût", "التكلفة", (
        "Purchase cost, a number, same currency as the price.",
        "Coût d'achat, un nombre, même devise que le prix.",
        "تكلفة الشراء، رقم، بنفس عملة السعر.",
    ), aliases=("cost price", "prix d'achat", "prix de revient", "cout", "سعر التكلفة"),
        nonnegative=True, width=12),
    _c("barcode", TEXT, "Barcode", "Code-barres", "الباركود", (
        "EAN-13, EAN-8, UPC-A or GTIN-14, digits only. The column is formatted as text so leading zeros "
        "are kept.",
        "EAN-13, EAN-8, UPC-A ou GTIN-14, chiffres uniquement. La colonne est au format texte pour "
        "garder les zéros en tête.",
        "EAN-13 أو EAN-8 أو UPC-A أو GTIN-14، أرقام فقط. العمود بتنسيق نص للحفاظ على الأصفار البادئة.",
    ), aliases=("ean", "ean13", "gtin", "upc", "code barre", "code barres", "الرمز الشريطي"),
        text_format=True, width=16),
    _c("weight", DECIMAL, "Weight (kg)", "Poids (kg)", "الوزن (كغ)", (
        "Weight in kilograms, a number.", "Poids en kilogrammes, un nombre.", "الوزن بالكيلوغرام، رقم.",
    ), aliases=("weight", "poids", "الوزن"), nonnegative=True, width=11),
    _c("hs_code", TEXT, "HS code", "Code SH", "رمز النظام المنسق", (
        "Customs tariff (Harmonized System) code.",
        "Code tarifaire douanier (Système harmonisé).",
        "رمز التعريفة الجمركية (النظام المنسق).",
    ), aliases=("hs", "hscode", "code hs", "code douanier", "nomenclature douaniere", "رمز hs"),
        text_format=True, width=12),
    _c("active", BOOL, "Active", "Actif", "نشط", (
        "Yes to sell it, No to disable it on the marketplaces. Blank = Yes.",
        "Oui pour le vendre, Non pour le désactiver sur les marketplaces. Vide = Oui.",
        "نعم للبيع، لا لتعطيله في المتاجر. فارغ = نعم.",
    ), aliases=("enabled", "published", "actif", "active", "publie", "مفعل"), width=9),
    _c("images", LIST, "Images", "Images", "الصور", (
        "Image URLs (https://...), separated by spaces, commas or line breaks. The first is the main "
        "image.",
        "URL des images (https://...), séparées par des espaces, virgules ou retours à la ligne. La "
        "première est l'image principale.",
        "روابط الصور (https://...) مفصولة بمسافات أو فواصل أو أسطر جديدة. الأولى هي الصورة الرئيسية.",
    ), aliases=("image", "image urls", "pictures", "photos", "image url", "url images", "صور"), width=40),
)

STOCK_SKU = _c("sku", TEXT, "SKU", "SKU", "رمز المنتج", (
    "Required. A SKU of the Products sheet.",
    "Obligatoire. Un SKU de la feuille Produits.",
    "إلزامي. رمز منتج من ورقة المنتجات.",
), required=True, aliases=PRODUCT_COLUMNS[1].aliases, text_format=True, width=18)
STOCK_QTY = _c("quantity", INTEGER, "Quantity", "Quantité", "الكمية", (
    "Required. Available quantity at this location, a whole number (0 or more).",
    "Obligatoire. Quantité disponible à cet emplacement, un nombre entier (0 ou plus).",
    "إلزامي. الكمية المتاحة في هذا الموقع، عدد صحيح (0 أو أكثر).",
), required=True, aliases=("qty", "quantity available", "available", "available quantity", "stock",
                           "quantite disponible", "disponible", "qte", "الكمية المتاحة"),
    nonnegative=True, width=12)
STOCK_COLUMNS: tuple[ColumnSpec, ...] = (STOCK_SKU, STOCK_QTY)

# Dynamic columns: localized labels used by the template, prefixes accepted by the reader.
ATTRIBUTE_LABEL = {"en": "Attribute: {}", "fr": "Attribut : {}", "ar": "السمة: {}"}
STOCK_COLUMN_LABEL = {"en": "Stock: {}", "fr": "Stock : {}", "ar": "المخزون: {}"}
TRANSLATION_LABEL = {"en": "{} ({})", "fr": "{} ({})", "ar": "{} ({})"}
ATTRIBUTE_PREFIXES = frozenset({"attribute", "attribut", "attr", "السمة", "سمة", "الخاصية"})
STOCK_PREFIXES = frozenset({"stock", "inventory", "inventaire", "المخزون", "مخزون"})

# Sheet names
PRODUCTS_SHEET = {"en": "Products", "fr": "Produits", "ar": "المنتجات"}
STOCK_SHEET = {"en": "Stock - {}", "fr": "Stock - {}", "ar": "المخزون - {}"}
INSTRUCTIONS_SHEET = {"en": "Instructions", "fr": "Instructions", "ar": "التعليمات"}
LISTS_SHEET = "Lists"
PRODUCTS_SHEET_ALIASES = frozenset({"products", "produits", "المنتجات", "product", "produit", "منتجات"})

YES_WORDS = {"en": "Yes", "fr": "Oui", "ar": "نعم"}
NO_WORDS = {"en": "No", "fr": "Non", "ar": "لا"}

_PARENS = re.compile(r"\s*\([^)]*\)\s*")
_TRANSLATION = re.compile(r"^(.+?)\s*[(\[]\s*([a-z]{2})(?:[ _-]?([a-z0-9]{2,3}))?\s*[)\]]$")
_PREFIXED = re.compile(r"^([^:：]+)[:：](.*)$", re.S)
_STOCK_SHEET = re.compile(r"^\s*([^-–—:]+?)\s*[-–—:]\s*(.+?)\s*$", re.S)


def normalize(text: str) -> str:
    """Lower-case, accents (and Arabic diacritics) stripped, ``*``/``_``/``-`` dropped, spaces collapsed."""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.casefold().replace("*", " ").replace("_", " ").replace("-", " ").replace("\u0640", "")
    s = " ".join(s.split())
    return s.replace(" :", ":").replace(": ", ":")


def _alias_table(columns: tuple[ColumnSpec, ...]) -> dict[str, ColumnSpec]:
    table: dict[str, ColumnSpec] = {}
    for spec in columns:
        for name in (*spec.labels.values(), *spec.aliases, spec.key):
            for n in (normalize(name), normalize(_PARENS.sub(" ", name))):
                if n:
                    table.setdefault(n, spec)
    return table


PRODUCT_ALIASES = _alias_table(PRODUCT_COLUMNS)
STOCK_ALIASES = _alias_table(STOCK_COLUMNS)
# normalized label/alias of a translatable column -> its key ("name" / "description")
_TRANSLATABLE = {
    normalize(label): spec.key
    for spec in PRODUCT_COLUMNS if spec.key in ("name", "description")
    for label in (*spec.labels.values(), *spec.aliases)
}


@dataclass(slots=True)
class HeaderMatch:
    """What one header cell means."""

    index: int  # 0-based column index
    header: str  # the header as written
    kind: str  # "field" | "attribute" | "translation" | "stock"
    spec: ColumnSpec | None = None  # for fields
    name: str = ""  # attribute name / stock location / translated field ("name"/"description")
    locale: str = ""  # for translations


@dataclass(slots=True)
class HeaderMap:
    """The matched header row of one sheet."""

    fields: dict[str, HeaderMatch] = field(default_factory=dict)  # spec.key -> match
    attributes: list[HeaderMatch] = field(default_factory=list)
    translations: list[HeaderMatch] = field(default_factory=list)
    stock: list[HeaderMatch] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)  # (meaning, first, second)


def header_text(value: object) -> str:
    """A header cell as text (calamine may give floats for numeric headers)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _locale(lang: str, region: str | None) -> str | None:
    if region:
        return f"{lang}_{region.upper() if region.isalpha() else region}"
    return LOCALES.get(lang)


def match_header(index: int, raw: str, aliases: dict[str, ColumnSpec], dynamic: bool) -> HeaderMatch | None:
    """Interpret one header cell; ``None`` when it means nothing to us."""
    n = normalize(raw)
    if not n:
        return None
    if dynamic:
        m = _PREFIXED.match(raw)
        if m:
            prefix, rest = normalize(m.group(1)), m.group(2).replace("*", "").strip()
            if prefix in ATTRIBUTE_PREFIXES and rest:
                return HeaderMatch(index, raw, "attribute", name=rest)
            if prefix in STOCK_PREFIXES and rest:
                return HeaderMatch(index, raw, "stock", name=rest)
        t = _TRANSLATION.match(n)
        if t and t.group(1) in _TRANSLATABLE:
            locale = _locale(t.group(2), t.group(3))
            if locale:
                return HeaderMatch(index, raw, "translation", name=_TRANSLATABLE[t.group(1)], locale=locale)
    spec = aliases.get(n) or aliases.get(normalize(_PARENS.sub(" ", raw)))
    if spec is not None:
        return HeaderMatch(index, raw, "field", spec=spec)
    return None


def match_headers(row: list, aliases: dict[str, ColumnSpec], dynamic: bool = True) -> HeaderMap:
    """Match a whole header row."""
    hm = HeaderMap()
    seen: dict[tuple, str] = {}
    for i, value in enumerate(row):
        raw = header_text(value)
        if not raw:
            continue
        m = match_header(i, raw, aliases, dynamic)
        if m is None:
            hm.unknown.append((i, raw))
            continue
        if m.kind == "field":
            assert m.spec is not None
            ident: tuple = ("field", m.spec.key)
            meaning = m.spec.labels["en"]
        elif m.kind == "translation":
            ident = ("translation", m.name, m.locale)
            meaning = f"{m.name} ({m.locale})"
        else:
            ident = (m.kind, normalize(m.name))
            meaning = f"{m.kind} {m.name}"
        if ident in seen:
            hm.duplicates.append((meaning, seen[ident], raw))
            continue
        seen[ident] = raw
        if m.kind == "field":
            assert m.spec is not None
            hm.fields[m.spec.key] = m
        elif m.kind == "attribute":
            hm.attributes.append(m)
        elif m.kind == "translation":
            hm.translations.append(m)
        else:
            hm.stock.append(m)
    return hm


def is_products_sheet(name: str) -> bool:
    return normalize(name) in PRODUCTS_SHEET_ALIASES


def stock_sheet_location(name: str) -> str | None:
    """``"Stock - Warehouse"`` -> ``"Warehouse"``; ``None`` when the sheet is not a stock sheet."""
    m = _STOCK_SHEET.match(name)
    if m and normalize(m.group(1)) in STOCK_PREFIXES:
        return m.group(2)
    return None


def is_example_sku(sku: str) -> bool:
    return sku.casefold().startswith(EXAMPLE_PREFIXES)
