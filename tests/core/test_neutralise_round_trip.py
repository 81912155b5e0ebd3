"""A cell guarded against spreadsheet formulas reads back as the text it was."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pavior.core.attributes import AttrType
from pavior.core.csv_rules import neutralise, typed_header, unneutralise

tricky = st.text(alphabet="'=+-@\t\rab 1", max_size=8)


@given(st.one_of(st.text(), tricky))
def test_unneutralise_gives_back_any_text(text: str) -> None:
    guarded = neutralise(text)
    assert unneutralise(guarded) == text
    assert guarded[:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_what_a_spreadsheet_would_run_gets_one_apostrophe() -> None:
    assert neutralise("+34 600 000 001") == "'+34 600 000 001"
    assert neutralise("'=x") == "''=x"  # so "'=x" itself comes back
    assert neutralise("'quoted") == "'quoted"
    assert unneutralise("'+34 600 000 001") == "+34 600 000 001"
    assert unneutralise("'quoted") == "'quoted"


def test_typed_headers() -> None:
    assert typed_header("plan:string") == ("plan", AttrType.STRING)
    assert typed_header(" renews_at:date ") == ("renews_at", AttrType.DATE)
    assert typed_header("plan:text") is None
    assert typed_header("Plan:string") is None
    assert typed_header("plan") is None
