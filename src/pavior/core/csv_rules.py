"""Rules for reading a CSV file a person uploads: encoding, delimiter, names, types.

Pure functions over small samples (the first kilobytes of a file, the first
values of a column), so the import can decide before it streams the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence

from .attributes import AttributeDef, AttrType, render_name, requires_date
from .coercion import Refused, coerce

__all__ = [
    "DELIMITERS",
    "DELIMITER_NAMES",
    "NotCsv",
    "date_order_evidence",
    "detect_delimiter",
    "detect_encoding",
    "infer_column_type",
    "match_header",
    "propose_attribute_name",
]

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class NotCsv(ValueError):
    """The sample is not text a CSV reader can make sense of."""


def detect_encoding(sample: bytes) -> str:
    """The codec to read a file whose first bytes are ``sample``.

    A BOM decides; then UTF-16 without BOM (every other byte NUL in ASCII
    text); then UTF-8 if the sample decodes; else Windows-1252 / Latin-1,
    which is what spreadsheet exports that are not UTF-8 almost always are.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = sample[:4096]
    if len(head) >= 4:
        even_nul = head[0::2].count(0)
        odd_nul = head[1::2].count(0)
        half = len(head) // 2
        if odd_nul > half * 0.6 and even_nul < half * 0.1:
            return "utf-16-le"
        if even_nul > half * 0.6 and odd_nul < half * 0.1:
            return "utf-16-be"
    if b"\x00" in head:
        raise NotCsv("the file contains binary data (NUL bytes), not text")
    try:
        # A sample may end inside a multi-byte character: decode incrementally
        # and ignore an incomplete tail.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte.
        return "latin-1"


_BINARY_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")


def detect_delimiter(text: str) -> str:
    """The delimiter of CSV ``text`` (the first kilobytes of the file).

    The candidate that splits the header into the most fields, with the
    following lines agreeing on that count, wins; a file with one column
    (no candidate appears) reads as comma-separated.
    """
    if _BINARY_CHARS.search(text[:4096]):
        raise NotCsv("the file contains control characters, so it is not a text CSV file")
    # Drop a possibly cut last line.
    cut = max(text.rfind("\n"), text.rfind("\r"))
    body = text[: cut + 1] if cut > 0 else text
    best, best_score = ",", (0, 0)
    for delim in DELIMITERS:
        rows = _first_rows(body, delim, 50)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        agree = sum(1 for r in rows[1:] if len(r) == width)
        score = (agree + 1, width) if len(rows) == 1 or agree else (0, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _first_rows(text: str, delim: str, limit: int) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim):
            if row:
                rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


_SPLIT = re.compile(r"[^A-Za-z0-9]+")


def propose_attribute_name(header: str) -> str:
    """A valid-looking custom attribute name for a column header.

    "Plan type" -> "plan_type", "MRR ($)" -> "mrr", "2nd plan" -> "col_2nd_plan".
    The caller still validates it (it may clash with an existing name).
    """
    words = [w for w in _SPLIT.split(header.strip()) if w]
    name = "_".join(w.lower() for w in words)[:64].strip("_")
    if not name:
        return "column"
    if name[0].isdigit():
        name = ("col_" + name)[:64]
    return name


def _key(text: str) -> str:
    return " ".join(_SPLIT.split(text.strip().casefold())).strip()


def match_header(header: str, attributes: Iterable[AttributeDef]) -> AttributeDef | None:
    """The attribute a header names by its API or rendered name (case and
    punctuation ignored): "Email", "first_name", "First name" all match."""
    key = _key(header)
    if not key:
        return None
    for attr in attributes:
        if attr.live or attr.archived:
            continue
        if key in (_key(attr.name), _key(attr.rendered_name), _key(render_name(attr.name))):
            return attr
    return None


def infer_column_type(name: str, samples: Sequence[str]) -> AttrType:
    """The type proposed for a new attribute from its column's values.

    A name that must be a date is a date. Otherwise the narrowest type every
    non-empty sample fits: boolean, number, date, else string. Day/month
    forms count as dates (the order is asked later).
    """
    if requires_date(name):
        return AttrType.DATE
    values = [s for s in samples if s.strip()]
    if not values:
        return AttrType.STRING
    for kind in (AttrType.BOOLEAN, AttrType.NUMBER, AttrType.DATE):
        if all(_fits(kind, v) for v in values):
            # "0"/"1" columns fit boolean and number; numbers other than
            # 0/1 never fit boolean, so a 0/1 column is taken as boolean
            # only when a true/false word appears too.
            if kind is AttrType.BOOLEAN and all(v.strip() in ("0", "1") for v in values):
                continue
            if kind is AttrType.DATE and all(_fits(AttrType.NUMBER, v) for v in values):
                continue
            return kind
    return AttrType.STRING


def _fits(kind: AttrType, value: str) -> bool:
    orders: tuple[bool | None, ...] = (True, False) if kind is AttrType.DATE else (None,)
    for day_first in orders:
        try:
            coerce(kind.value, value, day_first=day_first)
            return True
        except Refused:
            pass
    return False


_DAY_MONTH = re.compile(r"\s*(\d{1,2})([/.-])(\d{1,2})\2\d{4}(?:[Tt ].*)?\s*", re.ASCII)


def date_order_evidence(value: str) -> str | None:
    """What a date text says about day/month order.

    "ambiguous" (03/04/2024), "day_first" (25/04/2024), "month_first"
    (04/25/2024), or None when the text has no day/month form (ISO, numbers).
    """
    m = _DAY_MONTH.fullmatch(value)
    if m is None:
        return None
    a, b = int(m[1]), int(m[3])
    if a > 12 >= b:
        return "day_first"
    if b > 12 >= a:
        return "month_first"
    return "ambiguous" if a != b else None


def neutralise(text: str) -> str:
    """Stop spreadsheets from running a cell as a formula (OWASP CSV injection).

    Every CSV Pavior writes (the users export, reports) passes its text cells here.
    """
    if text and text[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text
