"""The report page in a real browser, served by pavior.asgi: chart, table, CSV and REST agree."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from pavior.core.attributes import Trust
from tests.conftest import screenshot
from tests.web.conftest import Team, assert_clean, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = [
    {"id": "u1", "country": "FR", "plan": "pro", "signed_up_at": "2024-01-10T10:00:00Z"},
    {"id": "u2", "country": "FR", "plan": "pro", "signed_up_at": "2024-01-20T10:00:00Z"},
    {"id": "u3", "country": "FR", "plan": "free", "signed_up_at": "2024-03-05T10:00:00Z"},
    {"id": "u4", "country": "DE", "plan": "pro", "signed_up_at": "2024-03-06T10:00:00Z"},
    {"id": "u5", "country": "DE", "plan": "team"},
    {"id": "u6", "country": "US"},
    {"id": "u7"},
]


@pytest.fixture
def seeded(team: Team) -> dict[str, Any]:
    from pavior.people.actions import create_attribute, upsert_user
    from pavior.segments.actions import create_segment
    from pavior.workspaces.actions import create_api_key

    create_attribute(team.workspace, "plan", "string")
    for values in PEOPLE:
        upsert_user(team.workspace, values, trust=Trust.SECRET)
    segment = create_segment(
        team.workspace, "French", {"attribute": "country", "op": "eq", "value": "FR"}
    )
    return {"segment": segment, "key": create_api_key(team.workspace)}


def rest_report(base: str, key: str, body: dict[str, Any], fmt: str = "") -> Any:
    resp = httpx.post(
        f"{base}/api/v1/reports{fmt}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    return resp.text if fmt else resp.json()


def table(page: Any) -> list[tuple[str, int]]:
    rows = page.locator("#report-table tbody tr")
    out = []
    for i in range(rows.count()):
        label = rows.nth(i).locator("th").inner_text().strip()
        out.append((label, int(rows.nth(i).locator("td").inner_text().replace(",", ""))))
    return out


def test_country_breakdown_chart_table_csv_and_rest_agree(
    served: Any, page: Any, team: Team, seeded: dict[str, Any]
) -> None:
    sign_in(page, served.url, team.email, team.password)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Reports"
    ).click()
    expect(page).to_have_url(f"{served.url}/reports/")
    # The page opens on users by country; the form asks for the same again.
    expect(page.get_by_role("heading", name="Users by Country")).to_be_visible()
    page.get_by_label("Kind").select_option("breakdown")
    page.get_by_label("Attribute").select_option("country")
    page.get_by_role("button", name="Show report").click()

    expect(page.get_by_role("heading", name="Users by Country")).to_be_visible()
    chart = page.get_by_role("img", name="Users by Country")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() == 4  # France, Germany, United States, not set
    shown = table(page)
    assert shown == [
        ("France (FR)", 3),
        ("Germany (DE)", 2),
        ("United States (US)", 1),
        ("Not set", 1),
    ]
    screenshot(page, "reports-country-breakdown")

    # The REST API, for the same request, has the same numbers.
    body = rest_report(served.url, seeded["key"], {"kind": "breakdown", "attribute": "country"})
    assert [(r["value"], r["count"]) for r in body["rows"]] == [("FR", 3), ("DE", 2), ("US", 1)]
    assert (body["unset"], body["other"], body["total"]) == (1, 0, 7)

    # The page's CSV and the API's CSV are the same file, with the same numbers.
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    with open(info.value.path(), encoding="utf-8", newline="") as f:
        page_csv = f.read()
    api_csv = rest_report(
        served.url, seeded["key"], {"kind": "breakdown", "attribute": "country"}, "?format=csv"
    )
    assert page_csv == api_csv
    lines = list(csv.reader(io.StringIO(page_csv)))
    assert lines[1:] == [
        ["value", "FR", "3"],
        ["value", "DE", "2"],
        ["value", "US", "1"],
        ["other", "", "0"],
        ["unset", "", "1"],
        ["total", "", "7"],
    ]
    assert_clean(page)


def test_a_report_over_a_segment_links_to_the_same_users(
    served: Any, page: Any, team: Team, seeded: dict[str, Any]
) -> None:
    sign_in(page, served.url, team.email, team.password)
    page.goto(f"{served.url}/reports/")
    page.get_by_label("Kind").select_option("timeseries")
    page.get_by_label("Attribute").select_option("signed_up_at")
    page.get_by_label("Users", exact=True).select_option(label="Segment: French")
    page.get_by_label("Per").select_option("month")
    page.get_by_label("From day").fill("2024-01-01")
    page.get_by_label("To day").fill("2024-04-30")
    page.get_by_role("button", name="Show report").click()
    title = "Users by Signed up on, per month from 2024-01-01 to 2024-04-01"
    expect(page.get_by_role("img", name=title)).to_be_visible()
    assert table(page) == [("Jan 2024", 2), ("Feb 2024", 0), ("Mar 2024", 1), ("Apr 2024", 0)]
    expect(page.locator("#report-summary")).to_contain_text("3 users in scope")
    screenshot(page, "reports-segment-timeseries")

    body = rest_report(
        served.url,
        seeded["key"],
        {
            "kind": "timeseries",
            "attribute": "signed_up_at",
            "interval": "month",
            "from": "2024-01-01",
            "to": "2024-04-30",
            "filter": {"segment": seeded["segment"].pk},
        },
    )
    assert [r["count"] for r in body["rows"]] == [2, 0, 1, 0]

    page.get_by_role("link", name="View these users").click()
    page.wait_for_load_state()
    expect(page.locator("#match-count")).to_have_text("3 users match")
    expect(page.get_by_label("Segment", exact=True)).to_have_value(str(seeded["segment"].pk))
    assert_clean(page)


def test_a_kind_that_does_not_fit_says_so_on_the_page(
    served: Any, page: Any, team: Team, seeded: dict[str, Any]
) -> None:
    sign_in(page, served.url, team.email, team.password)
    page.goto(f"{served.url}/reports/?kind=histogram&attribute=country")
    expect(page.get_by_role("alert")).to_contain_text("country is a string")
    assert page.get_by_role("img").count() == 0
