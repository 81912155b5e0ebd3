"""A date attribute is edited with a date/time field in the workspace's time zone,
not as raw "2025-03-01T00:00:00+00:00"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from pavior.core.attributes import Trust
from tests.conftest import screenshot
from tests.web.conftest import Team, assert_clean, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_date_is_edited_as_local_wall_time(page: Any, served: Any, team: Team) -> None:
    from pavior.people.actions import create_attribute, upsert_user
    from pavior.people.models import Person
    from pavior.workspaces.actions import update_workspace_settings

    ws = update_workspace_settings(team.workspace, {"timezone": "Europe/Madrid"})
    create_attribute(ws, "renews_at", "date")
    upsert_user(ws, {"id": "u1", "renews_at": "2025-03-01T00:00:00Z"}, trust=Trust.SECRET)
    person = Person.objects.get(workspace=ws, external_id="u1")

    sign_in(page, served.url, team.email, team.password)
    page.goto(f"{served.url}/users/{person.pk}/")
    field = page.get_by_label("Renews at")
    assert field.get_attribute("type") == "datetime-local"
    # Midnight UTC is 01:00 in Madrid in winter.
    assert field.input_value() == "2025-03-01T01:00"  # the browser drops ":00" seconds
    expect(field).to_have_accessible_description("Time in Europe/Madrid")

    field.fill("2025-07-01T09:30")
    page.locator("#attr-renews_at").get_by_role("button", name="Save").click()
    expect(page.get_by_label("Renews at")).to_have_value("2025-07-01T09:30")
    screenshot(page, "web-profile-date-edit")
    person.refresh_from_db()
    # 09:30 in Madrid in summer (UTC+2) is 07:30 UTC.
    stored = person.custom["renews_at"]
    assert datetime.fromtimestamp(stored, UTC) == datetime(2025, 7, 1, 7, 30, tzinfo=UTC)
    assert_clean(page)
