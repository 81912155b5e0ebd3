"""Big files are read and checked in a second process: the result is the same."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from pavior.core.attributes import BUILTINS, custom_attribute
from pavior.imports import mapping
from pavior.imports.parallel import run_pass_parallel
from pavior.imports.pipeline import Cancelled, Options, layout_for, run_pass
from pavior.imports.reading import ImportFileError, sniff
from pavior.imports.staging import Keys, copy_text, email_position

ATTRS = [
    *BUILTINS.values(),
    custom_attribute("plan", "string"),
    custom_attribute("seats", "number"),
    custom_attribute("renewal_on", "date"),
]


def _file(tmp_path: Path, rows: int, tail: bytes = b"") -> Path:
    buf = io.StringIO()
    buf.write("id,email,name,plan,seats,renewal_on\n")
    for i in range(rows):
        seats = "many" if i % 997 == 0 else str(i % 50)  # some rows are rejected
        date = "03/04/2024" if i % 1201 == 0 else f"2025-01-{1 + i % 28:02d}"
        name = "" if i % 7 == 0 else f"Ann Lee{i % 13}"
        extra = ",x" if i % 4001 == 0 else ""  # an extra non-empty field: rejected
        short = i % 3001 == 0  # a short row is padded
        cells = [f"u{i % 40000}", f"u{i}@x.io", name, "pro", seats, date]
        line = ",".join(cells[:4] if short else cells) + extra
        buf.write(line + "\n")
    path = tmp_path / "people.csv"
    path.write_bytes(buf.getvalue().encode() + tail)
    return path


def _run(path: Path, parallel: bool, tmp_path: Path, **kw: Any) -> tuple[Any, list[Any], str]:
    src = sniff(path)
    columns = mapping.resolve(src.header, {}, ATTRS)
    staged: list[Any] = []
    rejects = tmp_path / f"rejects-{parallel}.csv"
    if parallel:
        report = run_pass_parallel(
            src, columns, Options(), stage=staged.extend, rejects_path=rejects, **kw
        )
    else:
        with open(rejects, "w", newline="", encoding="utf-8") as f:
            report = run_pass(src, columns, Options(), stage=staged.extend, rejects=f, **kw)
    return report.as_json(), staged, rejects.read_text()


def test_same_rows_report_and_rejects(tmp_path: Path) -> None:
    path = _file(tmp_path, 60_000)
    one = _run(path, False, tmp_path)
    two = _run(path, True, tmp_path)
    assert one[0]["rows"] == 60_000 and one[0]["rejected"] > 0 and one[0]["padded"] > 0
    assert two == one


def test_a_broken_line_stops_the_import_with_its_number(tmp_path: Path) -> None:
    path = _file(tmp_path, 30_000, tail=b"u1,bad\xff\xfe@x.io,,,,\n")
    with pytest.raises(ImportFileError) as one:
        _run(path, False, tmp_path)
    with pytest.raises(ImportFileError) as two:
        _run(path, True, tmp_path)
    assert two.value.message.startswith("Line ") and "not valid utf-8" in two.value.message
    assert two.value.message == one.value.message


def test_cancel_stops_the_reader(tmp_path: Path) -> None:
    path = _file(tmp_path, 60_000)
    with pytest.raises(Cancelled):
        _run(path, True, tmp_path, should_stop=lambda: True)


def test_copy_text_from_the_reader_is_what_the_rows_make(tmp_path: Path) -> None:
    """PostgreSQL's path: the reader sends COPY text and the keys it saw; both
    are what this process would have made of the same staged rows."""
    path = _file(tmp_path, 60_000)  # ids repeat: u0..u39999 twice over
    src = sniff(path)
    columns = mapping.resolve(src.header, {}, ATTRS)
    staged: list[Any] = []
    run_pass(src, columns, Options(), stage=staged.append)
    email = email_position(layout_for(columns))
    mine = Keys(email)
    for rows in staged:
        mine.note(rows)
    sent: list[tuple[bytes, int]] = []
    theirs = Keys(email)
    run_pass_parallel(
        src,
        columns,
        Options(),
        stage=lambda rows: pytest.fail("rows sent as tuples"),
        copy=lambda data, n: sent.append((data, n)),
        keys=theirs,
    )
    assert [n for _, n in sent] == list(map(len, staged))
    assert [d for d, _ in sent] == list(map(copy_text, staged))
    assert mine.maybe_duplicates > 0
    assert (theirs.maybe_duplicates, theirs.duplicate_lines) == (
        mine.maybe_duplicates,
        mine.duplicate_lines,
    )
