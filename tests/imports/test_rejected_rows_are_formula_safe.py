"""The rejected-rows file repeats the uploaded cells, but none may run as a
formula where it is opened: the same rule as the users export (one function)."""

from __future__ import annotations

import csv
import io
from typing import Any

from pavior.core.csv_rules import neutralise

PASSWORD = "correct horse battery staple"

DANGEROUS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3"]


def download(client: Any, workspace: Any, imp: Any) -> list[list[str]]:
    from pavior.workspaces.actions import create_admin

    client.force_login(create_admin("owner@example.com", PASSWORD, workspaces=[workspace]))
    r = client.get(f"/imports/{imp.pk}/rejected.csv")
    assert r.status_code == 200
    text = b"".join(r).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_rejected_cells_cannot_run_as_formulas(run_csv: Any, workspace: Any, client: Any) -> None:
    header = "id,=Plan,seats"
    quoted = [cell.replace('"', '""') for cell in DANGEROUS]
    lines = [f'u{i},"{cell}",many' for i, cell in enumerate(quoted)]
    imp = run_csv("\n".join([header, *lines, "ok,pro,3"]) + "\n", {"seats": "seats:number"})
    assert imp.status == "done", imp.error
    assert imp.result["rejected"] == len(DANGEROUS)
    rows = download(client, workspace, imp)
    assert rows[0] == ["id", "'=Plan", "seats", "reason"]
    assert [r[1] for r in rows[1:]] == ["'" + cell for cell in DANGEROUS]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_a_reason_quoting_a_formula_is_safe_too(run_csv: Any, workspace: Any, client: Any) -> None:
    imp = run_csv("id,seats\n=1+1,=2+2\n", {"seats": "seats:number"})
    rows = download(client, workspace, imp)
    assert rows[1][:2] == ["'=1+1", "'=2+2"]
    assert not rows[1][2].startswith("=")


def test_one_rule_for_export_and_rejects() -> None:
    for dangerous in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert neutralise(dangerous) == "'" + dangerous
    for plain in ("plain", "", "a=b", " =x"):
        assert neutralise(plain) == plain
    assert neutralise("'=already") == "''=already"  # so a re-import gives it back
