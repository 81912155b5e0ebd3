"""Export the current view as CSV: same filter, chosen columns, formula-safe cells."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import quote

from pavior.core.csv_rules import neutralise
from tests.web.conftest import Team, add_users


def test_export_current_view_from_the_browser(signed_in: Any, team: Team) -> None:
    page = signed_in
    add_users(
        team.workspace,
        [
            {"id": "u1", "email": "ada@example.com", "name": '=HYPERLINK("http://x")'},
            {"id": "u2", "email": "bob@example.com", "name": "Bob"},
            {"id": "u3", "email": "cy@other.org", "name": "@SUM(A1)"},
        ],
    )
    f = json.dumps({"attribute": "email", "op": "ends_with", "value": "example.com"})
    page.goto(f"{page.base}/?filter={quote(f)}")
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    text = open(download.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Id", "Name", "Email"]
    body = {r[0]: r for r in rows[1:]}
    assert set(body) == {"u1", "u2"}  # the filter applies to the export
    assert body["u1"][1] == '\'=HYPERLINK("http://x")'
    assert body["u2"][1] == "Bob"


def test_formula_characters_are_neutralised() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert neutralise(dangerous) == "'" + dangerous
    assert neutralise("plain") == "plain"
    assert neutralise("") == ""
