"""A hidden or closed page ends the live state at once (issue 9): the snippet
sends `hide`, the tab shown again brings the same visit back.

The API tests run on every cache backend of CACHE_BACKENDS; the browser test
closes a real page in Chromium."""

from __future__ import annotations

import pytest

from pavior.people.models import Person
from pavior.tracking.live import get_live_attributes
from pavior.workspaces.actions import create_workspace
from tests.tracking.conftest import T0, event, post_batch
from tests.tracking.test_snippet_in_a_browser import page_html, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _send(served, workspace, clock, *events):
    r = post_batch(served, workspace.app_id, {"id": "u1"}, list(events), sent_at=clock.now())
    assert r.status_code == 200, r.content


@pytest.mark.usefixtures("cache_backend")
def test_hide_ends_the_live_state_and_the_next_heartbeat_resumes_the_visit(
    served, workspace, api, fake_clock
):
    url = "https://s.io/"
    _send(served, workspace, fake_clock, event("page", T0, url=url))
    fake_clock.advance(10)
    _send(served, workspace, fake_clock, event("heartbeat", fake_clock.now(), url=url))
    person = Person.objects.get(workspace=workspace, external_id="u1")
    visits, spent = person.total_visits, person.total_time_spent
    assert api.get("/users/u1/live").status_code == 200

    fake_clock.advance(2)
    _send(served, workspace, fake_clock, event("hide", fake_clock.now(), url=url))
    r = api.get("/users/u1/live")
    assert r.status_code == 404, r.content
    person.refresh_from_db()
    assert (person.total_visits, person.total_time_spent) == (visits, spent)

    # Back on the tab a minute later: the same visit goes on.
    fake_clock.advance(60)
    _send(served, workspace, fake_clock, event("heartbeat", fake_clock.now(), url=url))
    live = api.get("/users/u1/live").json()
    assert live["current_session_duration"] == 72.0
    assert live["current_page_url"] == url
    assert live["time_on_current_page"] <= live["current_session_duration"]


@pytest.mark.usefixtures("cache_backend")
def test_a_late_hide_does_not_end_a_visit_that_went_on(served, workspace, fake_clock):
    _send(served, workspace, fake_clock, event("page", T0, url="https://s.io/"))
    fake_clock.advance(30)
    now = fake_clock.now()
    _send(served, workspace, fake_clock, event("heartbeat", now, url="https://s.io/"))
    # A hide from before the heartbeat, delivered after it (a retried batch).
    _send(served, workspace, fake_clock, event("hide", T0, url="https://s.io/"))
    assert get_live_attributes(workspace.pk, "u1") is not None


def test_closing_the_page_ends_the_live_state(page, served, site):  # noqa: F811
    ws = create_workspace("Shop").workspace
    site["html"] = page_html(f"{served.url}/pavior.js", {"app_id": ws.app_id, "id": "u1"})
    page.goto(site["url"] + "/")
    wait_for(lambda: get_live_attributes(ws.pk, "u1"), page=page)
    page.close(run_before_unload=True)

    def gone() -> bool:
        return get_live_attributes(ws.pk, "u1") is None

    wait_for(gone, timeout=10)
