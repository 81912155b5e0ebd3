"""The delete page of an attribute a segment uses says so, and the delete is refused."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from pavior.people.actions import create_attribute
from pavior.people.models import AttributeDefinition
from pavior.segments.actions import create_segment
from tests.conftest import screenshot
from tests.web.conftest import Team


def test_the_delete_page_names_the_segment_and_keeps_the_attribute(
    signed_in: Any, team: Team, served: Any
) -> None:
    page = signed_in
    ws = team.workspace
    create_attribute(ws, "plan", "string")
    create_segment(ws, "Pro users", {"attribute": "plan", "op": "eq", "value": "pro"})
    page.goto(page.base + "/attributes/plan/delete/")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text('segment "Pro users"')
    screenshot(page, "web-attribute-in-use")
    page.get_by_label("to confirm").fill("plan")
    page.get_by_role("button", name="Delete attribute and values").click()
    expect(page.locator(".flash-error")).to_contain_text("Plan is in use")
    assert AttributeDefinition.objects.filter(workspace=ws, name="plan").exists()
