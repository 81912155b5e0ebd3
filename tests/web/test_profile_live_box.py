"""The profile's "On your site now" box: says when it was last updated, and
goes away as soon as the visitor's page is hidden (issue 9)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from playwright.sync_api import expect

from pavior.people.models import Person
from pavior.tracking.clock import FakeClock, use_clock
from tests.tracking.conftest import T0, event, post_batch
from tests.web.conftest import Team


def test_the_live_box_says_when_it_was_updated_and_ends_on_hide(
    signed_in: Any, served: Any, team: Team
) -> None:
    page, ws = signed_in, team.workspace
    cache.clear()
    url = "https://shop.example/pricing"
    with use_clock(FakeClock(T0)) as clock:

        def send(type_: str) -> None:
            batch = [event(type_, clock.now(), url=url)]
            r = post_batch(served, ws.app_id, {"id": "u1"}, batch, sent_at=clock.now())
            assert r.status_code == 200, r.content

        send("page")
        clock.advance(10)
        send("heartbeat")
        clock.advance(12)
        pk = Person.objects.get(workspace=ws, external_id="u1").pk
        page.goto(f"{page.base}/users/{pk}/")
        box = page.get_by_role("region", name="On your site now")
        expect(box).to_be_visible()
        expect(box.locator("#live-updated")).to_have_text("Updated 12 seconds ago")
        # Counted up to 15 s past the last heartbeat, never beyond the session.
        expect(box).to_contain_text("Time on current page")
        expect(box).to_contain_text("22 s")

        send("hide")
        page.reload()
        expect(page.get_by_role("heading", name="Custom attributes")).to_be_visible()
        expect(page.get_by_role("region", name="On your site now")).to_have_count(0)
    cache.clear()
