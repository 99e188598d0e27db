"""Hostile spreadsheet files, written byte by byte (no library would write them): each is small on disk and
would make a native reader allocate without bound, or abort.  Used by tests/test_spreadsheet_hostile.py, which
runs ``connector validate`` on each in a subprocess (an abort there must not kill pytest).

``python -m tests.hostile_files DIR`` writes them all to DIR and prints, for each, the exit code, the seconds
and the peak RSS of ``connector validate`` (the figures are checked by hand, never asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

_CT = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       b'<Default Extension="xml" ContentType="application/xml"/>'
       b'<Override PartName="/xl/workbook.xml" '
       b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       b"%s</Types>")
_SHEET_CT = (b'<Override PartName="/xl/worksheets/sheet%d.xml" '
             b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_SST_CT = (b'<Override PartName="/xl/sharedStrings.xml" '
           b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships '
         b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
         b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         b'Target="xl/workbook.xml"/></Relationships>')
_NS = (b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
HEADER_ROW = b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>Name</t></is>' \
             b'</c><c r="C1" t="inlineStr"><is><t>Price</t></is></c></row>'
DATA_ROW = b'<row r="2"><c r="A2" t="inlineStr"><is><t>A-1</t></is></c><c r="B2" t="inlineStr"><is><t>Soap</t>' \
           b'</is></c><c r="C2"><v>12</v></c></row>'


def sheet_xml(rows: bytes, dimension: bytes = b"A1:C2") -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + _NS + b'><dimension ref="' + dimension
            + b'"/><sheetData>' + rows + b"</sheetData></worksheet>")


def write_xlsx(path: Path, sheets: list[tuple[str, bytes | Iterable[bytes]]], shared_strings: bytes | None = None,
               workbook_extra: bytes = b"") -> Path:
    """A minimal xlsx: ``sheets`` are (name, sheet XML, or an iterable of its chunks: streamed, for bombs)."""
    names = b"".join(b'<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (n.encode(), i, i)
                     for i, (n, _) in enumerate(sheets, start=1))
    rels = b"".join(b'<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/worksheet" Target="worksheets/sheet%d.xml"/>' % (i, i)
                    for i in range(1, len(sheets) + 1))
    if shared_strings is not None:
        rels += (b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 b'relationships/sharedStrings" Target="sharedStrings.xml"/>')
    overrides = b"".join(_SHEET_CT % i for i in range(1, len(sheets) + 1))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT % (overrides + (_SST_CT if shared_strings is not None else b"")))
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", b'<?xml version="1.0" encoding="UTF-8"?><workbook ' + _NS + b">"
                    + workbook_extra + b"<sheets>" + names + b"</sheets></workbook>")
        zf.writestr("xl/_rels/workbook.xml.rels", b'<?xml version="1.0" encoding="UTF-8"?><Relationships '
                    b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' + rels
                    + b"</Relationships>")
        if shared_strings is not None:
            zf.writestr("xl/sharedStrings.xml", shared_strings)
        for i, (_, xml) in enumerate(sheets, start=1):
            name = f"xl/worksheets/sheet{i}.xml"
            if isinstance(xml, bytes):
                zf.writestr(name, xml)
            else:
                with zf.open(name, "w", force_zip64=True) as fh:
                    for chunk in xml:
                        fh.write(chunk)
    return path


def far_corner(path: Path) -> Path:
    """A header row, one product, and one cell in the sheet's last cell (XFD1048576): 16 billion cells."""
    rows = HEADER_ROW + DATA_ROW + b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return write_xlsx(path, [("Products", sheet_xml(rows))])


def last_row(path: Path) -> Path:
    """The only value below the header sits on row 1,048,576 (column C): a million-row grid."""
    rows = HEADER_ROW + b'<row r="1048576"><c r="C1048576"><v>1</v></c></row>'
    return write_xlsx(path, [("Products", sheet_xml(rows))])


def hidden_far_cell(path: Path) -> Path:
    """A far cell whose ref lies about its row element (rows look sorted and small) and a lying dimension."""
    rows = HEADER_ROW + DATA_ROW + b'<row r="3"><c r="XFD250000"><v>1</v></c></row>'
    return write_xlsx(path, [("Products", sheet_xml(rows, b"A1:C3"))])


def stock_far_cell(path: Path) -> Path:
    """A clean Products sheet and a stock sheet with a cell at XFD200000 (loaded on the reader's helper)."""
    stock = sheet_xml(b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is>'
                      b'<t>Quantity</t></is></c></row><row r="9"><c r="XFD200000"><v>1</v></c></row>')
    return write_xlsx(path, [("Products", sheet_xml(HEADER_ROW + DATA_ROW)), ("Stock - Main", stock)])


def lying_dimension(path: Path) -> Path:
    """A normal sheet whose ``<dimension>`` claims the whole grid."""
    return write_xlsx(path, [("Products", sheet_xml(HEADER_ROW + DATA_ROW, b"A1:XFD1048576"))])


def far_corner_mixed_prefix(path: Path) -> Path:
    """``far_corner`` whose root element is prefixed (``<x:worksheet>``) and its cells are not: calamine reads
    elements by local name, so they are cells all the same (the guard counted only ``<x:c>``: none)."""
    ns = _NS.replace(b'xmlns="', b'xmlns:x="')
    rows = HEADER_ROW + DATA_ROW + b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><x:worksheet ' + ns + b"><x:sheetData>" + rows
           + b"</x:sheetData></x:worksheet>")
    return write_xlsx(path, [("Products", xml)])


def rewrite_parts(src: Path, dst: Path, edit: Callable[[str, bytes], bytes]) -> Path:
    """A copy of the xlsx ``src`` with each part's bytes passed through ``edit(name, data)``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, edit(info.filename, zin.read(info.filename)))
    return dst


STRICT = [(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
          (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
           b"http://purl.oclc.org/ooxml/officeDocument/relationships")]


def strict(name: str, data: bytes) -> bytes:
    """A part in the namespaces of Excel's "Strict Open XML Spreadsheet" format."""
    for old, new in STRICT:
        data = data.replace(old, new)
    return data


def far_corner_strict(path: Path) -> Path:
    """``far_corner`` saved as Strict Open XML: other namespaces for the same parts."""
    return rewrite_parts(far_corner(path.with_name(path.stem + "-src.xlsx")), path, strict)


def far_corner_other_case(path: Path) -> Path:
    """``far_corner`` whose relationship names the sheet's part in other letter case (``Worksheets/Sheet1.xml``):
    calamine finds it, so the guard must too."""
    def edit(name: str, data: bytes) -> bytes:
        return data.replace(b"worksheets/sheet1.xml", b"Worksheets/Sheet1.XML") if name.endswith(".rels") else data
    return rewrite_parts(far_corner(path.with_name(path.stem + "-src.xlsx")), path, edit)


def _bomb_chunks(total: int) -> Iterable[bytes]:
    head = sheet_xml(HEADER_ROW + DATA_ROW).split(b"</sheetData>")[0]
    yield head
    block = b" " * (1 << 20)
    for _ in range(total >> 20):
        yield block
    yield b"</sheetData></worksheet>"


def zip_bomb(path: Path, megabytes: int = 1000) -> Path:
    """A Products sheet of 1 GB of spaces (a few MB on disk)."""
    return write_xlsx(path, [("Products", _bomb_chunks(megabytes << 20))])


def lying_zip_sizes(path: Path) -> Path:
    """A bomb whose zip directory claims small sizes: the declared uncompressed size of the sheet is patched
    down to 1 KB in both the local header and the central directory (the data still inflates to 600 MB)."""
    write_xlsx(path, [("Products", _bomb_chunks(600 << 20))])
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    # zip64 extra fields hold the real sizes when force_zip64 was used: rewrite them too
    for sig in (b"PK\x01\x02", b"PK\x03\x04"):
        pos = data.find(sig)
        while pos >= 0:
            name_len_at = pos + (28 if sig == b"PK\x01\x02" else 26)
            name_len = int.from_bytes(data[name_len_at:name_len_at + 2], "little")
            extra_len = int.from_bytes(data[name_len_at + 2:name_len_at + 4], "little")
            name_at = pos + (46 if sig == b"PK\x01\x02" else 30)
            if bytes(data[name_at:name_at + name_len]) == info.filename.encode():
                size_at = pos + (24 if sig == b"PK\x01\x02" else 22)
                if int.from_bytes(data[size_at:size_at + 4], "little") != 0xFFFFFFFF:
                    data[size_at:size_at + 4] = (1024).to_bytes(4, "little")
                extra = name_at + name_len
                end = extra + extra_len
                while extra + 4 <= end:
                    tag = int.from_bytes(data[extra:extra + 2], "little")
                    size = int.from_bytes(data[extra + 2:extra + 4], "little")
                    if tag == 1 and size >= 8:
                        data[extra + 4:extra + 12] = (1024).to_bytes(8, "little")
                    extra += 4 + size
            pos = data.find(sig, pos + 4)
    path.write_bytes(bytes(data))
    return path


def huge_shared_strings(path: Path, count: int = 3_500_000) -> Path:
    """A shared-strings table of 3.5 million one-letter strings (60 MB inflated; its count attribute saying 1)."""
    body = b'<?xml version="1.0" encoding="UTF-8"?><sst ' + _NS.split(b" ")[0] + \
        b' count="1" uniqueCount="1">' + b"<si><t>a</t></si>" * count + b"</sst>"
    rows = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    return write_xlsx(path, [("Products", sheet_xml(rows))], shared_strings=body)


def lying_shared_strings_count(path: Path) -> Path:
    """A shared-strings table whose count attribute claims 4 billion strings."""
    body = b'<?xml version="1.0" encoding="UTF-8"?><sst ' + _NS.split(b" ")[0] + \
        b' count="4294967295" uniqueCount="4294967295"><si><t>SKU</t></si></sst>'
    rows = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    return write_xlsx(path, [("Products", sheet_xml(rows))], shared_strings=body)


def _shared_strings_count_as(before_root: bytes, count: bytes) -> Callable[[Path], Path]:
    """``lying_shared_strings_count`` with its count written as XML allows (apostrophes, spaces around "=") or
    after a long comment: a search for ``count="`` in the first kilobyte missed it, and calamine aborted the
    process reserving the strings ("memory allocation of 103079215080 bytes failed")."""
    def make(path: Path) -> Path:
        body = (b'<?xml version="1.0" encoding="UTF-8"?>' + before_root + b"<sst " + _NS.split(b" ")[0] + b" "
                + count + b"><si><t>SKU</t></si></sst>")
        return write_xlsx(path, [("Products", sheet_xml(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'))],
                          shared_strings=body)
    return make


def deep_nesting(path: Path, depth: int = 2_000_000) -> Path:
    """Two million nested elements inside a cell of the Products sheet."""
    inner = b"<x>" * depth + b"</x>" * depth
    rows = HEADER_ROW + b'<row r="2"><c r="A2" t="inlineStr"><is><t>A</t>' + inner + b"</is></c></row>"
    return write_xlsx(path, [("Products", sheet_xml(rows))])


def many_sheets(path: Path, count: int = 5000) -> Path:
    """A Products sheet and 5,000 stock sheets."""
    stock = sheet_xml(b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is>'
                      b"<t>Quantity</t></is></c></row>")
    return write_xlsx(path, [("Products", sheet_xml(HEADER_ROW + DATA_ROW)),
                             *((f"Stock - L{i}", stock) for i in range(count))])


def many_cells(path: Path, count: int = 7_000_000) -> Path:
    """Seven million copies of cell A3 (a tiny grid, a huge list of cells)."""
    def chunks() -> Iterable[bytes]:
        yield sheet_xml(HEADER_ROW + DATA_ROW).split(b"</sheetData>")[0] + b'<row r="3">'
        block = b'<c r="A3"><v>1</v></c>' * 100_000
        for _ in range(count // 100_000):
            yield block
        yield b"</row></sheetData></worksheet>"
    return write_xlsx(path, [("Products", chunks())])


_ODS_MANIFEST = (b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                 b'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                 b'<manifest:file-entry manifest:full-path="/" '
                 b'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                 b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                 b"</manifest:manifest>")
_ODS_NS = (b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"')


def _ods_cell(text: str) -> bytes:
    return b'<table:table-cell office:value-type="string"><text:p>%s</text:p></table:table-cell>' % text.encode()


def write_ods(path: Path, rows: bytes) -> Path:
    content = (b'<?xml version="1.0" encoding="UTF-8"?><office:document-content ' + _ODS_NS
               + b'><office:body><office:spreadsheet><table:table table:name="Products">' + rows
               + b"</table:table></office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
        zf.writestr("content.xml", content)
    return path


def ods_repeated(path: Path) -> Path:
    """An .ods whose second row, holding a value, is repeated a million times, each with 16,384 copies of
    its cell: the same grid as the far corner, in 1 KB."""
    header = b"<table:table-row>" + _ods_cell("SKU") + _ods_cell("Name") + _ods_cell("Price") + b"</table:table-row>"
    repeated = (b'<table:table-row table:number-rows-repeated="1048575"><table:table-cell '
                b'table:number-columns-repeated="16384" office:value-type="float" office:value="1">'
                b"<text:p>1</text:p></table:table-cell></table:table-row>")
    return write_ods(path, header + repeated)


def ods_wide_rows(path: Path) -> Path:
    """An .ods with a value cell repeated 16,000 times on a row repeated 6,000 times (96 million cells, under
    calamine's own limit of 100 million: 9.5 GB and 35 s before the guard)."""
    header = b"<table:table-row>" + _ods_cell("SKU") + _ods_cell("Name") + _ods_cell("Price") + b"</table:table-row>"
    repeated = (b'<table:table-row table:number-rows-repeated="6000"><table:table-cell '
                b'table:number-columns-repeated="16000" office:value-type="float" office:value="1">'
                b"<text:p>1</text:p></table:table-cell></table:table-row>")
    return write_ods(path, header + repeated)


def ods_wide_rows_apostrophes(path: Path) -> Path:
    """``ods_wide_rows`` with its repeat counts quoted with apostrophes (XML allows it, calamine reads it): the
    guard's search for ``number-columns-repeated="`` missed them (3 GB and more allocated)."""
    ods_wide_rows(path)
    with zipfile.ZipFile(path) as zf:
        parts = [(i, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts:
            zf.writestr(info, data.replace(b'repeated="6000"', b"repeated = '6000'")
                        .replace(b'repeated="16000"', b"repeated='16000'"))
    return path


def csv_long_line(path: Path, megabytes: int = 20) -> Path:
    """A CSV whose second line is one 20 MB field."""
    with path.open("wb") as fh:
        fh.write(b"SKU,Name,Price\nA-1,")
        fh.write(b"x" * (megabytes << 20))
        fh.write(b",12\n")
    return path


def _small_xlsx(path: Path, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A one-product workbook whose parts are compressed with ``compression``."""
    write_xlsx(path, [("Products", sheet_xml(HEADER_ROW + DATA_ROW))])
    with zipfile.ZipFile(path) as zf:
        parts = [(i.filename, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in parts:
            zf.writestr(name, data)
    return path


def zip_encrypted_parts(path: Path) -> Path:
    """A workbook whose zip entries carry the "encrypted" flag (a zip locked with a password, renamed .xlsx):
    Python's zipfile raised RuntimeError ("password required for extraction") out of the reader."""
    data = bytearray(_small_xlsx(path, zipfile.ZIP_STORED).read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        i = data.find(signature)
        while i >= 0:
            data[i + flags_at] |= 1
            i = data.find(signature, i + 4)
    path.write_bytes(bytes(data))
    return path


def zip_bzip2_parts(path: Path) -> Path:
    """A workbook zipped with bzip2, a method no spreadsheet program writes (calamine cannot inflate it)."""
    return _small_xlsx(path, zipfile.ZIP_BZIP2)


def _far_cell_as(ref_attribute: bytes) -> Callable[[Path], Path]:
    """A header, one product, and a far cell whose reference is written as XML allows and no spreadsheet program
    writes it (calamine reads it all the same): the guard's byte searches, which expect ``r="XFD250000"``, missed
    it, and the reader aborted the process allocating the grid ("memory allocation of 131072000000 bytes
    failed")."""
    def make(path: Path) -> Path:
        rows = HEADER_ROW + DATA_ROW + b'<row r="3"><c ' + ref_attribute + b"><v>1</v></c></row>"
        return write_xlsx(path, [("Products", sheet_xml(rows))])
    return make


HOSTILE: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "far_corner": ("xlsx", far_corner),
    "far_corner_strict": ("xlsx", far_corner_strict),
    "far_corner_other_case": ("xlsx", far_corner_other_case),
    "far_corner_mixed_prefix": ("xlsx", far_corner_mixed_prefix),
    "last_row": ("xlsx", last_row),
    "hidden_far_cell": ("xlsx", hidden_far_cell),
    "stock_far_cell": ("xlsx", stock_far_cell),
    "lying_dimension": ("xlsx", lying_dimension),
    "zip_bomb": ("xlsx", zip_bomb),
    "lying_zip_sizes": ("xlsx", lying_zip_sizes),
    "huge_shared_strings": ("xlsx", huge_shared_strings),
    "lying_shared_strings_count": ("xlsx", lying_shared_strings_count),
    "deep_nesting": ("xlsx", deep_nesting),
    "many_sheets": ("xlsx", many_sheets),
    "many_cells": ("xlsx", many_cells),
    "ods_repeated": ("ods", ods_repeated),
    "ods_wide_rows": ("ods", ods_wide_rows),
    "ods_wide_rows_apostrophes": ("ods", ods_wide_rows_apostrophes),
    "csv_long_line": ("csv", csv_long_line),
    "zip_encrypted_parts": ("xlsx", zip_encrypted_parts),
    "zip_bzip2_parts": ("xlsx", zip_bzip2_parts),
    "far_cell_single_quotes": ("xlsx", _far_cell_as(b"r='XFD250000'")),
    "far_cell_spaced_equals": ("xlsx", _far_cell_as(b'r = "XFD250000"')),
    "far_cell_lower_case": ("xlsx", _far_cell_as(b'r="xfd250000"')),
    "far_cell_mixed_case": ("xlsx", _far_cell_as(b'r="xFd250000"')),
    "far_cell_long_column": ("xlsx", _far_cell_as(b'r="AAAAAAAAAAAAAAAAAAAAAAAAAAAA2"')),
    "far_row_single_quotes": ("xlsx", _far_cell_as(b"r='C1048576'")),
    "far_cell_reference_twice": ("xlsx", _far_cell_as(b'r="C3" r="XFD250000"')),
    "shared_strings_count_apostrophes": ("xlsx", _shared_strings_count_as(b"", b"uniqueCount='4294967295'")),
    "shared_strings_count_spaced": ("xlsx", _shared_strings_count_as(b"", b'count = "4294967295"')),
    "shared_strings_count_after_comment": ("xlsx", _shared_strings_count_as(b"<!--" + b" x" * 2000
                                                                            + b" -->", b'uniqueCount="4294967295"')),
}


def build(name: str, folder: Path) -> Path:
    suffix, make = HOSTILE[name]
    path = folder / f"{name}.{suffix}"
    if not path.exists():
        make(path)
    return path


def run_validate(path: Path, timeout: float = 120) -> tuple[int, str, float]:
    """(exit code, stderr + stdout, seconds) of ``connector validate path`` in a subprocess (killed after
    ``timeout`` seconds: exit code -9)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "connector.cli", "validate", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, (err + out).decode("utf-8", "replace"), time.perf_counter() - start


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else "/tmp/hostile")
    folder.mkdir(parents=True, exist_ok=True)
    names = argv[2:] or list(HOSTILE)
    for name in names:
        path = build(name, folder)
        # one fresh Python per file, so that the peak RSS is this file's alone
        code = (f"import resource, sys; from tests.hostile_files import run_validate; from pathlib import Path; "
                f"c, text, s = run_validate(Path({str(path)!r})); "
                f"rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024; "
                f"print(f'{{c}}\\t{{s:.2f}} s\\t{{rss}} MB\\t' + ' '.join(text.split())[:160])")
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        print(f"{name} ({path.stat().st_size // 1024} KB): {res.stdout.strip() or res.stderr.strip()[-300:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
