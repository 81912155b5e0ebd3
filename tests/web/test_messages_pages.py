"""The Messages pages in a real browser (served by uvicorn, Debian's Chromium).

A team member writes an in-site message in the composer, watches the preview and
the audience count follow the form, builds rules, goes live and pauses; hostile
bodies stay text everywhere; state changes need the CSRF token; another
workspace's message is a 404.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from pavior.messaging.models import Delivery, Message
from tests.conftest import screenshot
from tests.web.conftest import Team, add_users, assert_clean

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded(team: Team) -> None:
    add_users(
        team.workspace,
        [
            {"id": "u1", "name": "Ann", "email": "ann@example.com", "country": "FR"},
            {"id": "u2", "name": "Bob", "email": "bob@example.com", "country": "FR"},
            {"id": "u3", "name": "Cyd", "country": "FR"},
            {"id": "u4", "name": "Dan", "email": "dan@example.com", "country": "DE"},
            {"id": "u5", "name": "Eve", "email": "eve@example.com", "country": "US"},
        ],
    )


def test_compose_an_in_site_message_with_preview_audience_and_rules_then_go_live_and_pause(
    signed_in: Any, team: Team, seeded: None
) -> None:
    page = signed_in
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Messages"
    ).click()
    expect(page.get_by_role("heading", name="Messages", exact=True)).to_be_visible()
    page.get_by_role("link", name="New in-site message").click()

    page.get_by_role("radio", name=re.compile("^Chat")).check()
    expect(page.get_by_label("Sender name")).to_have_value("owner@example.com")
    page.get_by_label("Sender name").fill("Ada Lovelace")
    page.get_by_label("Title").fill("Pricing questions?")
    page.get_by_label("Body").fill("Ask us about **plans** and [discounts](https://example.com/d).")
    # The preview follows the typing, rendered by the server as the bubble will show it.
    preview = page.locator("#preview")
    expect(preview.locator("strong")).to_have_text("plans")
    expect(preview.get_by_role("link", name="discounts")).to_have_attribute(
        "rel", "noopener noreferrer"
    )
    expect(preview.locator(".bubble-avatar")).to_have_text("AL")
    expect(preview.locator(".bubble-sender")).to_have_text("Ada Lovelace")
    expect(preview.locator(".bubble-title")).to_have_text("Pricing questions?")

    # The audience: the users list's filter bar, with a live count.
    count = page.locator("#audience-count")
    expect(count).to_contain_text("5 users match now")
    page.get_by_label("Attribute 1", exact=True).select_option("country")
    page.get_by_label("Operator 1", exact=True).select_option("eq")
    page.get_by_label("Value 1", exact=True).fill("FR")
    expect(count).to_contain_text("3 users match now")

    # The rules builder: URL contains, time on page >= 30 s, not interacted.
    page.get_by_label("Rule attribute 1").select_option("current_page_url")
    page.get_by_label("Rule operator 1").select_option("contains")
    page.get_by_label("Rule value 1").fill("/pricing")
    page.get_by_role("button", name="Add rule").click()
    page.get_by_label("Rule attribute 2").select_option("time_on_current_page")
    # Only the operators of a number are offered for a time.
    ops = page.get_by_label("Rule operator 2")
    expect(ops.locator("optgroup[label=number]")).to_have_js_property("hidden", False)
    expect(ops.locator("optgroup[label=string]")).to_have_js_property("hidden", True)
    page.get_by_label("Rule operator 2").select_option("gte")
    page.get_by_label("Rule value 2").fill("30")
    page.get_by_role("button", name="Add rule").click()
    page.get_by_label("Rule attribute 3").select_option("interacted_in_current_session")
    page.get_by_label("Rule operator 3").select_option("is_false")
    expect(page.get_by_label("Rule value 3")).to_be_hidden()
    # What was typed before the round trips is still there.
    expect(page.get_by_label("Value 1", exact=True)).to_have_value("FR")
    expect(page.get_by_label("Title")).to_have_value("Pricing questions?")
    expect(count).to_contain_text("3 users match now")
    screenshot(page, "messages-composer-in-site")

    page.get_by_role("button", name="Go live").click()
    expect(page.get_by_role("status")).to_contain_text('"Pricing questions?" is live')
    expect(page.locator("#message-status")).to_have_text("Live")
    m = Message.objects.get()
    assert m.rules == {
        "and": [
            {"attribute": "current_page_url", "op": "contains", "value": "/pricing"},
            {"attribute": "time_on_current_page", "op": "gte", "value": 30},
            {"attribute": "interacted_in_current_session", "op": "eq", "value": False},
        ]
    }
    assert m.audience == {"attribute": "country", "op": "eq", "value": "FR"}
    assert (m.kind, m.sender_name, m.status) == ("chat", "Ada Lovelace", "live")

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#message-status")).to_have_text("Paused")
    page.get_by_role("link", name="Messages", exact=True).first.click()
    row = page.locator("#messages-table tbody tr", has_text="Pricing questions?")
    expect(row).to_contain_text("Chat")
    expect(row).to_contain_text("Paused")
    expect(row.locator("td.num")).to_have_text("3")
    expect(row).to_contain_text("Shown 0")
    screenshot(page, "messages-list")
    assert_clean(page)


def test_errors_come_back_next_to_their_field(signed_in: Any, team: Team) -> None:
    page = signed_in
    page.goto(page.base + "/messages/new/in-app/")
    page.get_by_label("Body").fill("Hi")
    page.get_by_label("Rule attribute 1").select_option("time_on_current_page")
    page.get_by_label("Rule operator 1").select_option("gte")
    page.get_by_label("Rule value 1").fill("soon")
    page.get_by_role("button", name="Go live").click()
    expect(page.locator("#rules-error")).to_contain_text("takes a number of seconds")
    expect(page.get_by_label("Rule value 1")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Rule value 1").fill("30")
    page.get_by_role("button", name="Go live").click()  # an announcement needs a title
    expect(page.locator("#title-error")).to_have_text(
        "An announcement needs a title before it goes live"
    )
    assert Message.objects.count() == 0
    assert_clean(page)


HOSTILE_TITLE = "<img src=x onerror=alert('title')>"
HOSTILE_BODY = (
    "<script>alert('body')</script>\n\n"
    "[click me](javascript:alert('link')) <img src=x onerror=alert('img')>\n\n"
    '<a href="javascript:alert(1)">raw link</a>'
)


def test_a_hostile_body_is_harmless_text_in_the_preview_the_list_and_the_message_page(
    signed_in: Any, team: Team
) -> None:
    page = signed_in
    page.goto(page.base + "/messages/new/in-app/")
    page.get_by_label("Title").fill(HOSTILE_TITLE)
    page.get_by_label("Body").fill(HOSTILE_BODY)
    preview = page.locator("#preview")
    expect(preview).to_contain_text("<script>alert('body')</script>")
    expect(preview).to_contain_text(HOSTILE_TITLE)
    for where in (preview,):
        expect(where.locator("script, img")).to_have_count(0)
        expect(where.locator("a")).to_have_count(0)  # javascript: links are never links
    screenshot(page, "messages-hostile-preview")
    page.get_by_role("button", name="Save draft").click()
    body = page.locator("#message-body")
    expect(body).to_contain_text("<script>alert('body')</script>")
    expect(body.locator("script, img, a")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_TITLE)
    page.goto(page.base + "/messages/")
    expect(page.locator("#messages-table")).to_contain_text(HOSTILE_TITLE)
    expect(page.locator("#messages-table img")).to_have_count(0)
    page.goto(page.base + "/messages/" + str(Message.objects.get().pk) + "/edit/")
    expect(page.locator("#preview")).to_contain_text("<script>alert('body')</script>")
    expect(page.locator("#preview").locator("script, img, a")).to_have_count(0)
    assert page.probe.dialogs == []
    assert_clean(page)


def test_the_email_composer_counts_who_would_be_skipped_and_offers_a_test(
    signed_in: Any, team: Team, seeded: None
) -> None:
    from pavior.people.models import Person

    Person.objects.filter(external_id="u2").update(email_subscription=False)
    page = signed_in
    page.goto(page.base + "/messages/")
    page.get_by_role("link", name="New email").click()
    page.get_by_label("Subject").fill("Our new plans")
    page.get_by_label("Body").fill("Hello,\n\n- one\n- two\n\nSee [plans](https://example.com).")
    expect(page.locator("#preview li")).to_have_count(2)
    expect(page.locator("#preview .js-preview-subject")).to_have_text("Our new plans")
    reach = page.locator("#email-reach")
    expect(reach).to_contain_text("Will be skipped: 1 unsubscribed, 1 without email")
    expect(reach).to_contain_text("Would get it: 3")
    page.get_by_label("Attribute 1", exact=True).select_option("country")
    page.get_by_label("Operator 1", exact=True).select_option("eq")
    page.get_by_label("Value 1", exact=True).fill("DE")
    expect(reach).to_contain_text("Would get it: 1")
    expect(reach).to_contain_text("Will be skipped: 0 unsubscribed, 0 without email")
    page.get_by_label("Value 1", exact=True).fill("FR")
    expect(reach).to_contain_text("Would get it: 1")
    page.get_by_role("radio", name=re.compile("^Ongoing")).check()
    screenshot(page, "messages-composer-email")

    page.get_by_role("button", name="Send test to me").click()
    flash = page.get_by_role("status")
    expect(flash).to_be_visible()
    m = Message.objects.get()
    assert (m.channel, m.status, m.subject, m.delivery) == (
        "email",
        "draft",
        "Our new plans",
        "ongoing",
    )
    expect(flash).to_contain_text(re.compile("Test email sent to owner@example.com|not sent"))
    expect(page.get_by_label("Subject")).to_have_value("Our new plans")  # back on the draft
    assert_clean(page)


def test_the_message_page_draws_stats_per_day(signed_in: Any, team: Team, seeded: None) -> None:
    from django.utils import timezone

    from pavior.messaging.actions import create_message, update_message
    from pavior.people.models import Person

    ws = team.workspace
    m = create_message(ws, "in_app", {"title": "Spring sale", "body": "**20 %** off"})
    m = update_message(ws, m.pk, {}, status="live")
    now = timezone.now()
    Message.objects.filter(pk=m.pk).update(went_live_at=now - timedelta(days=3))
    for i, person in enumerate(Person.objects.order_by("id")):
        at = now - timedelta(days=i % 3)
        Delivery.objects.create(
            workspace=ws,
            message=m,
            person=person,
            state="shown",
            shown_at=at,
            dismissed_at=at if i % 2 else None,
            clicked_at=at if i == 0 else None,
        )
    page = signed_in
    page.goto(page.base + "/messages/")
    page.get_by_role("link", name="Spring sale", exact=True).click()
    totals = page.locator("#message-totals")
    expect(totals).to_contain_text("Shown 5")
    expect(totals).to_contain_text("Dismissed 2")
    expect(totals).to_contain_text("Clicked 1")
    expect(totals).to_contain_text("Audience now 5")
    chart = page.locator("svg#daily-chart")
    # Went live 3 days ago: 4 days of shown, dismissed, clicked.
    expect(chart.locator("rect.bar")).to_have_count(12)
    expect(chart.locator("rect.bar-shown title").last).to_have_text(re.compile(r", shown: 2$"))
    expect(chart.locator("rect.bar-clicked title").last).to_have_text(re.compile(r", clicked: 1$"))
    page.get_by_text("Table of the same numbers").click()
    expect(page.locator("#daily-table tbody tr")).to_have_count(4)
    expect(page.locator("#message-body strong")).to_have_text("20 %")
    screenshot(page, "messages-message-page")
    assert_clean(page)


def test_state_changes_without_the_csrf_token_are_refused(signed_in: Any, team: Team) -> None:
    from pavior.messaging.actions import create_message

    m = create_message(team.workspace, "in_app", {"title": "T", "body": "B"})
    page = signed_in  # the session cookie is there; only the token is missing
    r = page.request.post(f"{page.base}/messages/{m.pk}/status/", form={"status": "live"})
    assert r.status == 403
    r = page.request.post(
        f"{page.base}/messages/new/in-app/", form={"title": "Forged", "body": "B"}
    )
    assert r.status == 403
    r = page.request.post(f"{page.base}/messages/{m.pk}/edit/", form={"title": "Forged"})
    assert r.status == 403
    m.refresh_from_db()
    assert (m.status, m.title) == ("draft", "T")
    assert Message.objects.count() == 1
    # With the token (the page's own form), the same change goes through.
    page.goto(f"{page.base}/messages/{m.pk}/")
    page.get_by_role("button", name="Go live").click()
    expect(page.locator("#message-status")).to_have_text("Live")


def test_another_workspaces_message_is_a_404(signed_in: Any, team: Team) -> None:
    from pavior.messaging.actions import create_message
    from pavior.workspaces.actions import create_workspace

    other = create_workspace("Other").workspace
    m = create_message(other, "in_app", {"title": "Not yours", "body": "B"})
    page = signed_in
    for path in (f"/messages/{m.pk}/", f"/messages/{m.pk}/edit/"):
        response = page.goto(page.base + path)
        assert response is not None and response.status == 404
        expect(page.get_by_text("Not yours")).to_have_count(0)
    page.goto(page.base + "/messages/")
    expect(page.get_by_text("Not yours")).to_have_count(0)


def test_enter_in_a_field_saves_the_draft_rather_than_adding_a_condition(
    signed_in: Any, team: Team
) -> None:
    page = signed_in
    page.goto(page.base + "/messages/new/in-app/")
    page.get_by_label("Body").fill("Hello")
    page.get_by_label("Title").fill("Saved by Enter")
    page.get_by_label("Title").press("Enter")
    expect(page.get_by_role("status")).to_contain_text('"Saved by Enter" saved')
    m = Message.objects.get()
    assert (m.title, m.status) == ("Saved by Enter", "draft")
    expect(page.locator("#message-status")).to_have_text("Draft")


def test_the_email_message_page_shows_progress_and_reasons(
    signed_in: Any, team: Team, seeded: None
) -> None:
    from django.utils import timezone

    from pavior.messaging.actions import create_message
    from pavior.people.models import Person

    ws = team.workspace
    m = create_message(ws, "email", {"subject": "Our new plans", "body": "Hello **you**"})
    now = timezone.now()
    Message.objects.filter(pk=m.pk).update(status="live", went_live_at=now - timedelta(days=1))
    states = ["sent", "sent", "skipped", "failed", "pending"]
    reasons = {"skipped": "no email", "failed": "550 mailbox unavailable"}
    for person, state in zip(Person.objects.order_by("id"), states, strict=True):
        Delivery.objects.create(
            workspace=ws,
            message=m,
            person=person,
            state=state,
            reason=reasons.get(state, ""),
            sent_at=now if state == "sent" else None,
        )
    page = signed_in
    page.goto(f"{page.base}/messages/{m.pk}/")
    expect(page.locator("#send-progress")).to_contain_text("Sending: 4 of 5 done (1 pending)")
    expect(page.locator("#message-totals")).to_contain_text("Sent 2")
    expect(page.locator("#reasons-failed")).to_contain_text("550 mailbox unavailable")
    expect(page.locator("svg#daily-chart rect.bar-sent")).to_have_count(2)
    screenshot(page, "messages-email-message-page")
    assert_clean(page)
