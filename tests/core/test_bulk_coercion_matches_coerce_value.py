"""coerce_cells gives, cell by cell, exactly what coerce_value gives."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pavior.core.attributes import AttrType, coerce_value, custom_attribute
from pavior.core.bulk import coerce_cells
from pavior.core.errors import PaviorError

INTERESTING = [
    "",
    " ",
    "\t",
    "0",
    "1",
    "-1",
    "+7",
    "007",
    "1.5",
    ".5",
    "5.",
    "1e3",
    "1E-2",
    "nan",
    "inf",
    "1_000",
    "١٢",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    " 42 ",
    "true",
    "False",
    " yes",
    "NO",
    "2024-05-01",
    "2024-05-01T12:00:00Z",
    "2024-02-30",
    "2024/05/01",
    "03/04/2024",
    "25/04/2024",
    "04/25/2024",
    "1714564800",
    "1714564800000",
    "1714564800.5",
    "a\x00b",
    "x" * 30,
    "\ud800",
    "Chloé",
    "  Ann  ",
]
cells = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(max_size=12),
    st.text(st.characters(exclude_categories=[]), max_size=6),  # lone surrogates too
    st.integers(-(2**64), 2**64).map(str),
    st.floats(allow_nan=True).map(repr),
    st.datetimes().map(lambda d: d.isoformat()),
)


def _same(a: object, b: object) -> bool:
    # 1 == 1.0 == True in Python: the stored type matters too.
    if isinstance(a, datetime) or isinstance(b, datetime):
        return type(a) is type(b) and a == b and a.utcoffset() == b.utcoffset()  # type: ignore[union-attr]
    return type(a) is type(b) and a == b


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(list(AttrType)),
    column=st.lists(cells, max_size=40),
    day_first=st.sampled_from([None, True, False]),
    maxlen=st.integers(1, 40),
)
def test_every_cell_as_coerce_value(
    kind: AttrType, column: list[str], day_first: bool | None, maxlen: int
) -> None:
    attr = custom_attribute("thing", kind)
    values, errors = coerce_cells(attr, column, day_first=day_first, max_string_length=maxlen)
    assert len(values) == len(column)
    for pos, cell in enumerate(column):
        if not cell or cell.isspace():
            assert values[pos] is None and pos not in errors
            continue
        try:
            want = coerce_value(attr, cell, day_first=day_first, max_string_length=maxlen)
        except PaviorError as e:
            assert values[pos] is None
            assert errors[pos] == e.message
            continue
        assert pos not in errors
        assert _same(values[pos], want), (cell, values[pos], want)


@given(st.lists(st.text(min_size=1, max_size=8).filter(lambda s: not s.isspace()), max_size=30))
def test_plain_string_columns_come_back_unchanged(column: list[str]) -> None:
    attr = custom_attribute("note", AttrType.STRING)
    values, errors = coerce_cells(attr, column, max_string_length=1000)
    for pos, cell in enumerate(column):
        try:
            want = coerce_value(attr, cell, max_string_length=1000)
        except PaviorError as e:
            assert errors[pos] == e.message
            continue
        assert values[pos] == want
