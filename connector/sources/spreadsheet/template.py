"""The catalogue template a merchant fills in (openpyxl), in English, French or Arabic.

Layout (design §6): a Products sheet (one row per SKU), one ``Stock - <Location>`` sheet per location, an
Instructions sheet in the template's language, and a hidden Lists sheet feeding the dropdowns.  Required
headers end with ``*``; every header carries a note; SKU/Parent SKU/Barcode/HS code columns are text
(``@``) so leading zeros survive; the header row is frozen.  Example rows have SKUs starting with
``EXAMPLE-`` (``EXEMPLE-`` in French, ``مثال-`` in Arabic) and are ignored by the reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from connector.errors import ConfigError

from .cells import gs1_check_digit
from .columns import (
    ATTRIBUTE_LABEL,
    BOOL,
    CURRENCY,
    DECIMAL,
    EXAMPLE_SKU_PREFIX,
    INSTRUCTIONS_SHEET,
    INTEGER,
    LANGS,
    LISTS_SHEET,
    NO_WORDS,
    PRODUCT_COLUMNS,
    PRODUCTS_SHEET,
    STOCK_COLUMN_LABEL,
    STOCK_COLUMNS,
    STOCK_SHEET,
    TEXT,
    YES_WORDS,
    ColumnSpec,
)

CURRENCIES = ("MRU", "EUR", "USD", "XOF", "MAD", "DZD", "TND", "SAR", "AED", "EGP", "GBP", "CNY", "TRY")
DEFAULT_ATTRIBUTES = {"en": ("Size", "Color"), "fr": ("Taille", "Couleur"), "ar": ("المقاس", "اللون")}
TRANSLATION_LANGS = ("fr", "ar")
MAX_ROW = 1048576  # dropdowns and number checks cover the whole column

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FILL = PatternFill("solid", fgColor="F8CBAD")
HEADER_FONT = Font(bold=True)
EXAMPLE_FONT = Font(italic=True, color="808080")
EXAMPLE_FILL = PatternFill("solid", fgColor="F2F2F2")

_LANG_NAMES = {
    "en": {"fr": "French", "ar": "Arabic"},
    "fr": {"fr": "français", "ar": "arabe"},
    "ar": {"fr": "الفرنسية", "ar": "العربية"},
}
_TRANSLATED = {
    "en": {"name": "Name", "description": "Description"},
    "fr": {"name": "Nom", "description": "Description"},
    "ar": {"name": "الاسم", "description": "الوصف"},
}
_NOTES = {
    "attribute": {
        "en": "Variant attribute '{}': the value for this row (e.g. M, Blue). Blank on a simple product. "
              "Add as many 'Attribute: <name>' columns as you need.",
        "fr": "Attribut de déclinaison '{}' : la valeur pour cette ligne (ex. M, Bleu). Vide pour un produit "
              "simple. Ajoutez autant de colonnes 'Attribut : <nom>' que nécessaire.",
        "ar": "سمة المتغير '{}': القيمة لهذا السطر (مثل M، أزرق). فارغة للمنتج البسيط. أضف أعمدة "
              "'السمة: <الاسم>' حسب الحاجة.",
    },
    "translation": {
        "en": "{field} in {lang} (optional). Blank on variant rows = inherited.",
        "fr": "{field} en {lang} (facultatif). Vide sur les lignes de déclinaison = hérité.",
        "ar": "{field} باللغة {lang} (اختياري). الفراغ في أسطر المتغيرات = يُورث.",
    },
    "stock": {
        "en": "Available quantity at location '{}', a whole number (0 or more). Blank = unknown.",
        "fr": "Quantité disponible à l'emplacement '{}', un nombre entier (0 ou plus). Vide = inconnue.",
        "ar": "الكمية المتاحة في الموقع '{}'، عدد صحيح (0 أو أكثر). فارغ = غير معروفة.",
    },
}
_VALIDATION_TEXT = {
    "en": ("Invalid value", "Choose a value from the list.", "Enter a number, 0 or more.",
           "Enter a whole number, 0 or more."),
    "fr": ("Valeur invalide", "Choisissez une valeur dans la liste.", "Saisissez un nombre, 0 ou plus.",
           "Saisissez un nombre entier, 0 ou plus."),
    "ar": ("قيمة غير صالحة", "اختر قيمة من القائمة.", "أدخل رقمًا، 0 أو أكثر.", "أدخل عددًا صحيحًا، 0 أو أكثر."),
}
INSTRUCTIONS = {
    "en": [
        "How to fill in this catalogue",
        "1. Sheet '{products}': one row per SKU (sellable item). Required columns end with *.",
        "2. A simple product: leave Parent SKU blank. A product with variants (sizes, colours...): one row "
        "per variant, all with the same Parent SKU, and the values in the 'Attribute: ...' columns. Name, "
        "Description, Brand and Category may be left blank on the following rows: they are inherited.",
        "3. Rows whose SKU starts with {example} are examples: they are ignored (you may delete them).",
        "4. Stock: one sheet per location named 'Stock - <location>' with SKU and Quantity (available "
        "quantity). A 'Stock: <location>' column in '{products}' works too.",
        "5. Numbers: 12.50 or 12,50, no currency sign. Barcodes: EAN-13, EAN-8, UPC-A or GTIN-14 (check "
        "digit verified); the column is text so leading zeros are kept.",
        "6. Category: the path from the root, levels separated by '>' (Home > Kitchen). Images: URLs "
        "separated by spaces, commas or line breaks. Active: Yes or No.",
        "7. Columns are recognised by their header, in any order. A column you delete leaves that "
        "information unchanged on the marketplaces; an empty cell in a column clears it.",
        "8. Translations: 'Name (fr)', 'Name (ar)', 'Description (fr)', 'Description (ar)'.",
        "9. A row you delete is no longer in source: by default its stock is set to 0 on the marketplaces "
        "(the listing stays); the sync profile can disable it instead, or keep it as it is.",
        "Column | Required | Explanation",
    ],
    "fr": [
        "Comment remplir ce catalogue",
        "1. Feuille '{products}' : une ligne par SKU (article vendable). Les colonnes obligatoires se "
        "terminent par *.",
        "2. Produit simple : laissez SKU parent vide. Produit avec déclinaisons (tailles, couleurs...) : une "
        "ligne par déclinaison, toutes avec le même SKU parent, et les valeurs dans les colonnes "
        "'Attribut : ...'. Nom, Description, Marque et Catégorie peuvent rester vides sur les lignes "
        "suivantes : ils sont hérités.",
        "3. Les lignes dont le SKU commence par {example} sont des exemples : elles sont ignorées (vous "
        "pouvez les supprimer).",
        "4. Stock : une feuille par emplacement nommée 'Stock - <emplacement>' avec SKU et Quantité "
        "(quantité disponible). Une colonne 'Stock : <emplacement>' dans '{products}' convient aussi.",
        "5. Nombres : 12.50 ou 12,50, sans symbole monétaire. Codes-barres : EAN-13, EAN-8, UPC-A ou GTIN-14 "
        "(clé de contrôle vérifiée) ; la colonne est au format texte pour garder les zéros en tête.",
        "6. Catégorie : le chemin depuis la racine, niveaux séparés par '>' (Maison > Cuisine). Images : URL "
        "séparées par des espaces, virgules ou retours à la ligne. Actif : Oui ou Non.",
        "7. Les colonnes sont reconnues par leur en-tête, dans n'importe quel ordre. Une colonne supprimée "
        "laisse cette information inchangée sur les marketplaces ; une cellule vide l'efface.",
        "8. Traductions : 'Nom (fr)', 'Nom (ar)', 'Description (fr)', 'Description (ar)'.",
        "9. Une ligne supprimée n'est plus dans la source : par défaut son stock passe à 0 sur les "
        "marketplaces (l'annonce reste) ; le profil de synchronisation peut la désactiver, ou la laisser telle "
        "quelle.",
        "Colonne | Obligatoire | Explication",
    ],
    "ar": [
        "كيفية ملء هذا الكتالوج",
        "1. ورقة '{products}': سطر لكل رمز منتج (صنف قابل للبيع). الأعمدة الإلزامية تنتهي بـ *.",
        "2. المنتج البسيط: اترك رمز المنتج الأب فارغًا. المنتج ذو المتغيرات (مقاسات، ألوان...): سطر لكل "
        "متغير، كلها بنفس رمز المنتج الأب، والقيم في أعمدة 'السمة: ...'. يمكن ترك الاسم والوصف والعلامة "
        "التجارية والفئة فارغة في الأسطر التالية: فهي تُورث.",
        "3. الأسطر التي يبدأ رمزها بـ {example} هي أمثلة: يتم تجاهلها (يمكنك حذفها).",
        "4. المخزون: ورقة لكل موقع باسم 'المخزون - <الموقع>' تحتوي على رمز المنتج والكمية (الكمية المتاحة). "
        "ويمكن أيضًا استخدام عمود 'المخزون: <الموقع>' في '{products}'.",
        "5. الأرقام: 12.50 أو 12,50 بدون رمز العملة. الباركود: EAN-13 أو EAN-8 أو UPC-A أو GTIN-14 (يتم "
        "التحقق من رقم التحقق)؛ العمود بتنسيق نص للحفاظ على الأصفار البادئة.",
        "6. الفئة: المسار من الجذر، المستويات مفصولة بـ '>'. الصور: روابط مفصولة بمسافات أو فواصل أو أسطر. "
        "نشط: نعم أو لا.",
        "7. يتم التعرف على الأعمدة من عناوينها، بأي ترتيب. العمود المحذوف يترك المعلومة دون تغيير في "
        "المتاجر؛ والخلية الفارغة تمسحها.",
        "8. الترجمات: 'الاسم (fr)'، 'الاسم (ar)'، 'الوصف (fr)'، 'الوصف (ar)'.",
        "9. السطر المحذوف لم يعد في المصدر: افتراضيًا يصبح مخزونه 0 في المتاجر (ويبقى الإعلان)؛ ويمكن لملف "
        "المزامنة تعطيله بدلًا من ذلك، أو تركه كما هو.",
        "العمود | إلزامي | الشرح",
    ],
}
_REQUIRED_WORD = {"en": ("Yes", ""), "fr": ("Oui", ""), "ar": ("نعم", "")}


@dataclass(frozen=True, slots=True)
class TemplateColumn:
    """One column of a generated sheet."""

    key: str  # spec key, "attribute:<name>", "translation:<field>:<lang>" or "stock:<location>"
    header: str
    note: str
    kind: str
    width: int
    text: bool = False
    required: bool = False


def product_columns(lang: str, attributes: Sequence[str] | None = None,
                    stock_locations: Sequence[str] = ()) -> list[TemplateColumn]:
    """The Products sheet columns of a template in ``lang``."""
    _check_lang(lang)
    cols = [_from_spec(spec, lang) for spec in PRODUCT_COLUMNS]
    for name in (DEFAULT_ATTRIBUTES[lang] if attributes is None else attributes):
        cols.append(TemplateColumn(f"attribute:{name}", ATTRIBUTE_LABEL[lang].format(name),
                                   _NOTES["attribute"][lang].format(name), TEXT, 16))
    for field in ("name", "description"):
        for tl in TRANSLATION_LANGS:
            note = _NOTES["translation"][lang].format(field=_TRANSLATED[lang][field],
                                                      lang=_LANG_NAMES[lang][tl])
            cols.append(TemplateColumn(f"translation:{field}:{tl}", f"{_TRANSLATED[lang][field]} ({tl})", note,
                                       TEXT, 30 if field == "name" else 40))
    for loc in stock_locations:
        cols.append(TemplateColumn(f"stock:{loc}", STOCK_COLUMN_LABEL[lang].format(loc),
                                   _NOTES["stock"][lang].format(loc), INTEGER, 12))
    return cols


def stock_columns(lang: str) -> list[TemplateColumn]:
    return [_from_spec(spec, lang) for spec in STOCK_COLUMNS]


def _from_spec(spec: ColumnSpec, lang: str) -> TemplateColumn:
    return TemplateColumn(spec.key, spec.header(lang), spec.notes[lang], spec.kind, spec.width, spec.text_format,
                          spec.required)


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unknown template language {lang!r} (use one of {', '.join(LANGS)})")


def example_rows(lang: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Example Products rows (a simple product and a product with two variants) and their stock."""
    ex = EXAMPLE_SKU_PREFIX[lang]
    size, color = DEFAULT_ATTRIBUTES[lang]
    names = {"en": ("Mint tea 500 g", "Cotton T-shirt"), "fr": ("Thé à la menthe 500 g", "T-shirt coton"),
             "ar": ("شاي بالنعناع 500 غ", "قميص قطني")}[lang]
    cats = {"en": ("Food > Tea", "Fashion > T-shirts"), "fr": ("Alimentation > Thé", "Mode > T-shirts"),
            "ar": ("أغذية > شاي", "أزياء > قمصان")}[lang]
    blue = {"en": "Blue", "fr": "Bleu", "ar": "أزرق"}[lang]
    yes = YES_WORDS[lang]
    rows = [
        {"sku": f"{ex}TEA-500", "name": names[0], "brand": "Acme", "category": cats[0], "price": 350,
         "currency": "MRU", "cost": 200, "barcode": "0012345678905", "weight": 0.5, "hs_code": "090230",
         "active": yes, "images": "https://cdn.example.com/example/tea.jpg"},
        {"parent_sku": f"{ex}TSHIRT", "sku": f"{ex}TSHIRT-M-BLUE", "name": names[1], "brand": "Acme",
         "category": cats[1], "price": 450, "currency": "MRU", "barcode": with_check_digit("200000000001"),
         "weight": 0.2,
         "active": yes, f"attribute:{size}": "M", f"attribute:{color}": blue,
         "images": "https://cdn.example.com/example/tshirt-blue.jpg"},
        {"parent_sku": f"{ex}TSHIRT", "sku": f"{ex}TSHIRT-L-BLUE", "price": 450, "active": yes,
         f"attribute:{size}": "L", f"attribute:{color}": blue},
    ]
    return rows, {f"{ex}TEA-500": 25, f"{ex}TSHIRT-M-BLUE": 10, f"{ex}TSHIRT-L-BLUE": 4}


def with_check_digit(body: str) -> str:
    """``body`` followed by its GS1 check digit (12 digits give an EAN-13)."""
    return body + str(gs1_check_digit(body))


def build_workbook(*, lang: str = "en", locations: Sequence[str] = ("Main",),
                   rows: Sequence[Mapping[str, Any]] = (), stock: Mapping[str, Mapping[str, int]] | None = None,
                   attributes: Sequence[str] | None = None, example: bool = False) -> Workbook:
    """A template workbook, optionally filled with ``rows`` (dicts keyed like ``TemplateColumn.key``) and
    ``stock`` (location -> {SKU: quantity})."""
    _check_lang(lang)
    locations = list(dict.fromkeys(str(loc).strip() for loc in locations if str(loc).strip()))
    wb = Workbook()
    products = wb.active
    assert products is not None
    products.title = PRODUCTS_SHEET[lang]
    pcols = product_columns(lang, attributes)
    lists = _lists_sheet(wb)
    example_stock: dict[str, int] = {}
    all_rows: list[tuple[Mapping[str, Any], bool]] = []
    if example:
        ex_rows, example_stock = example_rows(lang)
        all_rows += [(r, True) for r in ex_rows]
    all_rows += [(r, False) for r in rows]
    _fill_sheet(products, pcols, all_rows, lang, lists)
    for loc in locations:
        ws = wb.create_sheet(_stock_title(lang, loc))
        srows = [({"sku": s, "quantity": q}, True) for s, q in example_stock.items()]
        srows += [({"sku": s, "quantity": q}, False) for s, q in (stock or {}).get(loc, {}).items()]
        _fill_sheet(ws, stock_columns(lang), srows, lang, lists)
    _instructions_sheet(wb, lang, pcols)
    wb.move_sheet(lists, offset=len(wb.sheetnames))
    if lang == "ar":
        for ws in wb.worksheets:
            ws.sheet_view.rightToLeft = True
    wb.active = 0
    return wb


def write_template(path: str | Path, *, lang: str = "en", locations: Sequence[str] = ("Main",),
                   example: bool = True) -> None:
    """Write the blank catalogue template in ``lang`` ("en", "fr" or "ar") with one stock sheet per location.

    A location that cannot be a sheet's name as it is (Excel refuses ``[]:*?/\\`` and names over 31 characters),
    or that is given twice, is refused: the sheet would name another location than the one the merchant will
    later give to ``--stock-locations``."""
    altered = [loc for loc in locations
               if lang in STOCK_SHEET and _stock_title(lang, loc) != STOCK_SHEET[lang].format(loc)]
    if altered:
        raise ConfigError(f"stock location(s) {', '.join(repr(x) for x in altered)} cannot be a sheet name as given "
                          f"(no [ ] : * ? / \\, and at most {31 - len(STOCK_SHEET[lang].format(''))} characters)")
    twice = sorted({loc for loc in locations if list(locations).count(loc) > 1})
    if twice:
        raise ConfigError(f"stock location(s) given twice: {', '.join(repr(x) for x in twice)}")
    wb = build_workbook(lang=lang, locations=locations, example=example)
    wb.save(Path(path))


def _stock_title(lang: str, location: str) -> str:
    title = STOCK_SHEET[lang].format(location)
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31]


def _lists_sheet(wb: Workbook) -> Worksheet:
    ws = wb.create_sheet(LISTS_SHEET)
    ws["A1"], ws["B1"] = "Active", "Currency"
    for r, word in enumerate([w for lang in LANGS for w in (YES_WORDS[lang], NO_WORDS[lang])], start=2):
        ws.cell(row=r, column=1, value=word)
    for r, code in enumerate(CURRENCIES, start=2):
        ws.cell(row=r, column=2, value=code)
    ws.sheet_state = "hidden"
    return ws


def _list_ref(column: str, count: int) -> str:
    return f"{LISTS_SHEET}!${column}$2:${column}${count + 1}"


def _fill_sheet(ws: Worksheet, columns: list[TemplateColumn], rows: list[tuple[Mapping[str, Any], bool]],
                lang: str, lists: Worksheet) -> None:
    title, choose, number, whole = _VALIDATION_TEXT[lang]
    for c, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=c, value=col.header)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if col.required else HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        comment = Comment(col.note, "connector")
        comment.width, comment.height = 300, 110
        cell.comment = comment
        letter = get_column_letter(c)
        dim = ws.column_dimensions[letter]
        dim.width = col.width
        if col.text:
            dim.number_format = "@"
        rng = f"{letter}2:{letter}{MAX_ROW}"
        dv = None
        if col.kind == BOOL:
            dv = DataValidation(type="list", formula1=_list_ref("A", 2 * len(LANGS)), allow_blank=True)
            dv.error, dv.prompt = choose, choose
        elif col.kind == CURRENCY:
            dv = DataValidation(type="list", formula1=_list_ref("B", len(CURRENCIES)), allow_blank=True)
            dv.error, dv.prompt = choose, choose
        elif col.kind == DECIMAL:
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
            dv.error = number
        elif col.kind == INTEGER:
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
            dv.error = whole
        if dv is not None:
            dv.errorTitle = title
            dv.showErrorMessage = True
            ws.add_data_validation(dv)
            dv.add(rng)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 32
    for r, (values, is_example) in enumerate(rows, start=2):
        for c, col in enumerate(columns, start=1):
            value = values.get(col.key)
            if value is None or value == "":
                if not is_example:
                    continue
                value = None
            cell = ws.cell(row=r, column=c, value=value)
            if col.text:
                cell.number_format = "@"
                if value is not None and not isinstance(value, str):
                    cell.value = str(value)
            if is_example:
                cell.font = EXAMPLE_FONT
                cell.fill = EXAMPLE_FILL


def _instructions_sheet(wb: Workbook, lang: str, columns: list[TemplateColumn]) -> None:
    ws = wb.create_sheet(INSTRUCTIONS_SHEET[lang])
    lines = INSTRUCTIONS[lang]
    fmt = {"products": PRODUCTS_SHEET[lang], "example": EXAMPLE_SKU_PREFIX[lang]}
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 100
    r = 1
    for k, line in enumerate(lines[:-1]):
        cell = ws.cell(row=r, column=1, value=line.format(**fmt))
        if k == 0:
            cell.font = Font(bold=True, size=14)
        r += 1
    r += 1
    for c, head in enumerate(lines[-1].split(" | "), start=1):
        ws.cell(row=r, column=c, value=head).font = HEADER_FONT
    for col in [*columns, *stock_columns(lang)[1:]]:
        r += 1
        ws.cell(row=r, column=1, value=col.header)
        ws.cell(row=r, column=2, value=_REQUIRED_WORD[lang][0] if col.required else _REQUIRED_WORD[lang][1])
        ws.cell(row=r, column=3, value=col.note).alignment = Alignment(wrap_text=True, vertical="top")
