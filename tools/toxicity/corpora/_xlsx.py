"""A small .xlsx reader (standard library only): the rows of one worksheet as lists of strings.

Some sources ship their labels as Excel workbooks; the build must not need openpyxl or pandas.
Handles shared strings, inline strings, numbers and booleans; skipped cells come back as "".
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_COL = re.compile(r"[A-Z]+")


def _text(node: ET.Element) -> str:
    # A shared or inline string is either <t> or several runs <r><t>..</t></r>.
    return "".join(t.text or "" for t in node.iter(f"{{{_NS['m']}}}t"))


def _column(ref: str) -> int:
    letters = _COL.match(ref).group(0)
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def read_rows(data: bytes, sheet: int | str = 0) -> list[list[str]]:
    """Rows of a worksheet (by position or by name), each a list of cell texts."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        names = set(book.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            root = ET.fromstring(book.read("xl/sharedStrings.xml"))
            shared = [_text(si) for si in root.findall("m:si", _NS)]
        workbook = ET.fromstring(book.read("xl/workbook.xml"))
        sheets = workbook.findall("m:sheets/m:sheet", _NS)
        if isinstance(sheet, int):
            chosen = sheets[sheet]
        else:
            chosen = next(s for s in sheets if s.get("name") == sheet)
        rels = ET.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == chosen.get(_REL))
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        root = ET.fromstring(book.read(path))
    rows: list[list[str]] = []
    for row in root.iterfind("m:sheetData/m:row", _NS):
        cells: list[str] = []
        for cell in row.findall("m:c", _NS):
            ref = cell.get("r")
            if ref:
                col = _column(ref)
                while len(cells) < col:
                    cells.append("")
            kind = cell.get("t")
            value = cell.find("m:v", _NS)
            if kind == "s" and value is not None:
                cells.append(shared[int(value.text)])
            elif kind == "inlineStr":
                inline = cell.find("m:is", _NS)
                cells.append(_text(inline) if inline is not None else "")
            elif value is not None and value.text is not None:
                text = value.text
                if kind is None and re.fullmatch(r"-?\d+\.0", text):
                    text = text[:-2]
                cells.append(text)
            else:
                cells.append("")
        rows.append(cells)
    return rows
