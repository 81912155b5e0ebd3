"""Files as people really have them: encodings, delimiters, line endings, broken ones."""

from __future__ import annotations

from typing import Any

import pytest

from pavior.core.errors import PaviorError
from pavior.people.models import Person

ROWS = 'email,name,city\na@x.io,Zoé Ünal,Paris\nb@x.io,"Bob\nSmith",Lyon\n'


def _names(workspace: Any) -> dict[str, Any]:
    return dict(Person.objects.filter(workspace=workspace).values_list("email", "name"))


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),
        lambda t: t.encode("utf-16"),
        lambda t: t.encode("utf-16-le"),
        lambda t: t.encode("latin-1"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le", "latin1"],
)
def test_encodings(db: Any, workspace: Any, run_csv: Any, encode: Any) -> None:
    imp = run_csv(encode(ROWS))
    assert imp.status == "done", imp.error
    assert _names(workspace) == {"a@x.io": "Zoé Ünal", "b@x.io": "Bob\nSmith"}


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
@pytest.mark.parametrize("eol", ["\r\n", "\n", "\r"])
def test_delimiters_and_line_endings(
    db: Any, workspace: Any, run_csv: Any, delim: str, eol: str
) -> None:
    text = eol.join([delim.join(["email", "name"]), delim.join(["a@x.io", '"Ann, ""A"" Lee"']), ""])
    imp = run_csv(text)
    assert imp.status == "done", imp.error
    assert imp.delimiter == delim
    assert _names(workspace) == {"a@x.io": 'Ann, "A" Lee'}


def test_ragged_rows_duplicates_and_oversized_fields(db: Any, workspace: Any, run_csv: Any) -> None:
    big = "x" * 5000
    text = (
        "id,email,phone\n"
        "u1,a@x.io\n"  # short: padded
        "u2,b@x.io,1,extra\n"  # long: rejected
        f"u3,c@x.io,{big}\n"  # oversized: rejected, capped in the rejects file
        "u1,a2@x.io,9\n"  # same id again: last row wins
    )
    imp = run_csv(text)
    assert imp.status == "done", imp.error
    r = imp.result
    assert (r["created"], r["rejected"], r["duplicates"], r["padded"]) == (1, 2, 1, 1)
    assert r["duplicate_lines"] == [5]
    u1 = Person.objects.get(workspace=workspace, external_id="u1")
    assert (u1.email, u1.phone) == ("a2@x.io", "9")
    from pavior.imports.actions import rejects_path

    rejected = rejects_path(imp).read_text()
    assert "line 3 has 4 fields, the header has 3" in rejected
    assert "longer than the 1,000-character limit" in rejected
    assert big not in rejected and len(rejected) < 3000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a CSV file"),
        (b"", "The file is empty"),
    ],
    ids=["binary", "empty"],
)
def test_files_that_are_not_csv_are_refused_at_upload(
    db: Any, workspace: Any, run_csv: Any, data: bytes, message: str
) -> None:
    with pytest.raises(PaviorError) as caught:
        run_csv(data)
    assert message in caught.value.message
    assert caught.value.field == "file"
    assert Person.objects.filter(workspace=workspace).count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # The quote on line 3 is never closed: the rest of the file would be one value.
        (
            b'email,name\nz@x.io,Zed\na@x.io,"never closed\n' + b"x," * 10 + b"\nb@x.io,Bo\n",
            "Line 3: a quote",
        ),
        # Valid UTF-8 for the first 64 KB the reader looks at, then not.
        (
            b"email,name\n"
            + b"".join(b"u%d@x.io,ok\n" % i for i in range(6000))
            + b"z@x.io,\xff\xfebad\n",
            "Line 6002: the file is not valid utf-8",
        ),
    ],
    ids=["unclosed-quote", "bad-bytes"],
)
def test_broken_files_fail_with_the_line_and_write_nothing(
    db: Any, workspace: Any, run_csv: Any, data: bytes, message: str
) -> None:
    imp = run_csv(data)
    assert imp.status == "failed"
    assert imp.error.startswith(message), imp.error
    assert Person.objects.filter(workspace=workspace).count() == 0


def test_stray_quotes_that_close_do_not_fail_the_file(
    db: Any, workspace: Any, run_csv: Any
) -> None:
    # As spreadsheets read them: quotes inside a value stay, a closed quoted
    # part followed by more text is joined to it.
    imp = run_csv('email,name\na@x.io,Ann "Nan" Lee\nb@x.io,"Bob" Smith\n')
    assert imp.status == "done", imp.error
    assert _names(workspace) == {"a@x.io": 'Ann "Nan" Lee', "b@x.io": "Bob Smith"}


def test_ambiguous_dates_need_the_order(db: Any, workspace: Any, run_csv: Any) -> None:
    text = "email,joined_on\na@x.io,03/04/2024\n"
    imp = run_csv(text, {"joined_on": "joined_on:date"})
    assert (
        imp.result["rejected"] == 1 and "ambiguous" in imp.result["rejected_samples"][0]["reason"]
    )
    imp = run_csv(text, day_first=True)
    assert imp.result["created"] == 1
    p = Person.objects.get(workspace=workspace, email="a@x.io")
    assert p.custom["joined_on"] == 1712102400  # 2024-04-03T00:00:00Z


def test_empty_cells_keep_or_clear(db: Any, workspace: Any, run_csv: Any) -> None:
    run_csv("email,phone,plan\na@x.io,123,pro\n", {"plan": "plan:string"})
    run_csv("email,phone,plan\na@x.io,,\n")
    p = Person.objects.get(workspace=workspace, email="a@x.io")
    assert (p.phone, p.custom) == ("123", {"plan": "pro"})
    run_csv("email,phone,plan\na@x.io,,\n", empty_clears=True)
    p.refresh_from_db()
    assert (p.phone, p.custom) == (None, {})


def test_modes_and_subscription(db: Any, workspace: Any, run_csv: Any) -> None:
    run_csv("email,email_subscription\na@x.io,false\n")
    imp = run_csv("email,email_subscription\na@x.io,true\nb@x.io,\n", mode="update")
    assert (imp.result["created"], imp.result["skipped"], imp.result["unchanged"]) == (0, 1, 1)
    assert Person.objects.get(workspace=workspace, email="a@x.io").email_subscription is False
    imp = run_csv("email\na@x.io\nb@x.io\n", mode="create")
    assert (imp.result["created"], imp.result["skipped"]) == (1, 1)
