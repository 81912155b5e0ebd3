"""The wizard in a real browser: upload, map (with a new attribute), validate,
import, result, download the rejected rows."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from pavior.people.models import AttributeDefinition, Person
from tests.conftest import screenshot

CSV = (
    "Email,Full name,Plan tier,Joined\n"
    "ann@x.io,Ann Lee,gold,03/04/2024\n"
    "bob@x.io,Bob Ray,silver,25/12/2023\n"
    "not-an-id-row,,bronze,yesterday\n"
    ",Nobody,gold,01/01/2024\n"
)


@pytest.mark.django_db(transaction=True)
def test_wizard_upload_map_validate_import(
    served: Any, page: Any, tmp_path: Any, immediate_tasks: None
) -> None:
    from pavior.workspaces.actions import create_admin, create_workspace

    ws = create_workspace("Acme").workspace
    create_admin("admin@x.io", "correct horse battery", workspaces=[ws])
    path = tmp_path / "people.csv"
    path.write_text(CSV, encoding="utf-8")

    page.goto(f"{served.url}/login/?next=/imports/")
    page.get_by_label("Email").fill("admin@x.io")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/imports/")
    page.set_input_files("input[type=file]", str(path))
    screenshot(page, "imports-1-upload")
    page.get_by_role("button", name="Upload").click()

    page.wait_for_url("**/map/")
    assert page.get_by_label("Import Email as").input_value() == "attr:email"
    assert page.get_by_label("Import Full name as").input_value() == "new"
    page.get_by_label("Import Full name as").select_option("attr:name")
    assert not page.get_by_label("New attribute name for Full name").is_visible()
    assert page.get_by_label("New attribute name for Plan tier").input_value() == "plan_tier"
    page.get_by_label("New attribute name for Plan tier").fill("tier")
    # "yesterday" is no date, so the proposal is a string; the person knows better.
    assert page.get_by_label("Type for Joined").input_value() == "string"
    page.get_by_label("Type for Joined").select_option("date")
    page.get_by_label("New attribute name for Joined").fill("joined_on")
    screenshot(page, "imports-2-map")
    page.get_by_role("button", name="Validate").click()

    page.wait_for_url("**/validate/")
    assert page.get_by_text("Dates like 03/04/2024 are").is_visible()
    assert not AttributeDefinition.objects.exists()  # validation writes nothing
    page.get_by_label("Day first (3 April 2024)").check()
    page.get_by_role("button", name="Validate again").click()
    page.wait_for_url("**/validate/")
    assert "2 ready to import" in page.inner_text("main").replace("\n", " ")
    screenshot(page, "imports-3-validate")
    page.get_by_role("button", name="Import 2 rows").click()

    page.wait_for_selector("text=Import result")
    screenshot(page, "imports-4-result")
    result = page.inner_text("main")
    assert "Created\t2" in result and "Rejected\t2" in result
    with page.expect_download() as dl:
        page.get_by_role("link", name="Download rejected rows (CSV)").click()
    rejected = open(dl.value.path(), encoding="utf-8").read()
    assert rejected.splitlines()[0] == "Email,Full name,Plan tier,Joined,reason"
    assert "no id and no email" in rejected and '"yesterday"' in rejected

    ann = Person.objects.get(workspace=ws, email="ann@x.io")
    assert (ann.name, ann.first_name, ann.custom["tier"]) == ("Ann Lee", "Ann", "gold")
    assert ann.custom["joined_on"] == 1712102400
    page.goto(f"{served.url}/imports/")
    screenshot(page, "imports-5-history")
    assert "people.csv" in page.inner_text("main")
    assert page.probe.console_errors == []


@pytest.mark.django_db(transaction=True)
def test_wizard_names_the_line_of_an_unclosed_quote(
    served: Any, page: Any, tmp_path: Any, immediate_tasks: None
) -> None:
    from pavior.workspaces.actions import create_admin, create_workspace

    ws = create_workspace("Acme").workspace
    create_admin("admin@x.io", "correct horse battery", workspaces=[ws])
    # Past the rows the mapping step samples, so the map page still works.
    rows = "".join(f"u{i}@x.io,User {i}\n" for i in range(250))
    path = tmp_path / "broken.csv"
    path.write_text(f'email,name\n{rows}late@x.io,"never closed\nz@x.io,Zed\n', encoding="utf-8")

    page.goto(f"{served.url}/login/?next=/imports/")
    page.get_by_label("Email").fill("admin@x.io")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/imports/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/map/")
    expect(page.get_by_label("Import email as")).to_have_value("attr:email")
    page.get_by_role("button", name="Validate").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Line 252: a quote")
    expect(alert).to_contain_text("never closed")
    screenshot(page, "imports-broken-file")
    assert not Person.objects.filter(workspace=ws).exists()

    # Broken within the rows the mapping step samples: the map page says so at once.
    early = tmp_path / "early.csv"
    early.write_text('email,name\na@x.io,Ann\nb@x.io,"Bob\nc@x.io,Cy\n', encoding="utf-8")
    page.get_by_role("link", name="Start over").click()
    page.set_input_files("input[type=file]", str(early))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/map/")
    expect(page.get_by_role("alert")).to_contain_text("Line 3: a quote")
    assert not Person.objects.filter(workspace=ws).exists()
    # The page itself answers 422 (the browser logs that); nothing else failed.
    assert [m for m in page.probe.console_errors if "status of 422" not in m] == []
