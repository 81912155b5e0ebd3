"""Coercing a whole column of text cells at once, by the rules of coerce_value.

A CSV import checks millions of cells. Calling ``coerce_value`` once per
cell costs more than everything else it does; but a column repeats itself
(plans, countries, dates) or is plain short text (names, emails). So the
rule is applied once per *distinct* cell, and a column of plain short
strings (the common case) is settled with a few whole-column checks that
run at C speed. There is still one rule: every value or refusal here is
``coerce_value``'s own (a property test compares the two on any input).
"""

from __future__ import annotations

from collections.abc import Sequence

from .attributes import AttributeDef, AttrType, coerce_value
from .errors import PaviorError

__all__ = ["coerce_cells"]


def coerce_cells(
    attr: AttributeDef,
    cells: Sequence[str],
    *,
    day_first: bool | None = None,
    max_string_length: int = 1000,
) -> tuple[list[object | None], dict[int, str]]:
    """Each cell as stored for ``attr``, and the refused cells' messages.

    A blank cell (empty or only whitespace) is None: in a file it means "no
    value", for every type. Any other cell gets exactly what
    ``coerce_value`` returns; a refused one is None in the values and its
    position maps to ``coerce_value``'s message.
    """
    n = len(cells)
    if n == 0:
        return [], {}
    if attr.type is AttrType.STRING and _plain_strings(cells, max_string_length):
        # Every cell is non-blank, short, without NUL and valid Unicode:
        # coerce_value returns each one unchanged.
        return list(cells), {}
    known: dict[str, object | None] = {}
    refused: dict[str, str] = {}
    for cell in set(cells):
        if not cell or cell.isspace():
            known[cell] = None
            continue
        try:
            known[cell] = coerce_value(
                attr, cell, day_first=day_first, max_string_length=max_string_length
            )
        except PaviorError as e:
            known[cell] = None
            refused[cell] = e.message
    values = list(map(known.__getitem__, cells))
    if not refused:
        return values, {}
    return values, {pos: refused[c] for pos, c in enumerate(cells) if c in refused}


def _plain_strings(cells: Sequence[str], max_length: int) -> bool:
    if not all(cells) or any(map(str.isspace, cells)):
        return False
    if max(map(len, cells)) > max_length:
        return False
    joined = "".join(cells)
    if "\x00" in joined:
        return False
    if not joined.isascii():
        try:
            joined.encode("utf-8")  # an unpaired surrogate is refused
        except UnicodeEncodeError:
            return False
    return True
