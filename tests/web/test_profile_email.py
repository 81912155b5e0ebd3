"""The profile tells why a user gets no email, how their subscription moved,
and which messages they were shown or sent (SPEC §7, §13)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from django.utils import timezone
from playwright.sync_api import expect

from pavior.messaging.actions import change_subscription, create_message
from pavior.messaging.models import Delivery, SubscriptionChange
from pavior.messaging.suppressions import suppress
from pavior.people.models import Person
from tests.conftest import screenshot
from tests.messaging.conftest import email_someone
from tests.web.conftest import Team, add_users, assert_clean


def test_profile_shows_messages_history_and_why_no_email(signed_in: Any, team: Team) -> None:
    page = signed_in
    ws = team.workspace
    emailed = email_someone(ws, "u1", "Ada@Example.com")
    person = emailed.person
    now = timezone.now()
    in_app = create_message(ws, "in_app", {"title": "Try dark mode", "body": "New!"})
    Delivery.objects.create(
        workspace=ws,
        message=in_app,
        person=person,
        state=Delivery.State.SHOWN,
        shown_at=now - timedelta(days=2),
        dismissed_at=now - timedelta(days=2),
    )
    failed = create_message(ws, "email", {"subject": "Invoice ready", "body": "x"})
    Delivery.objects.create(
        workspace=ws,
        message=failed,
        person=person,
        state=Delivery.State.FAILED,
        reason="550 mailbox unavailable",
    )
    # The user unsubscribes with one click, resubscribes in the bubble, unsubscribes
    # from the email's page; the address later bounces.
    r = httpx.post(emailed.link(page.base), data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200
    change_subscription(person, True, source="bubble")
    change_subscription(person, False, source="unsubscribe_link", message=emailed.message)
    suppress(ws, "ADA@example.com", "bounce", detail="Postmark: smtp;550 5.1.1 no such user")

    page.goto(f"{page.base}/users/{person.pk}/")
    status = page.locator("#email-status")
    expect(status.get_by_text("Gets no email")).to_be_visible()
    why = page.get_by_role("list", name="Why this user gets no email")
    expect(why).to_contain_text("Unsubscribed by the user, from an email's unsubscribe link")
    expect(why).to_contain_text("Suppressed: the address bounced (hard bounce)")
    expect(why).to_contain_text("550 5.1.1 no such user")
    history = page.get_by_role("list", name="Subscription history")
    texts = [" ".join(t.split()) for t in history.get_by_role("listitem").all_inner_texts()]
    assert [t.split(" 20")[0] for t in texts] == [
        "Unsubscribed by the user, from an email's unsubscribe link (“Spring news”)",
        "Resubscribed by the user, from the Pavior bubble",
        "Unsubscribed by one-click unsubscribe from a mail client (“Spring news”)",
    ], texts
    rows = page.locator("#messages-shown tbody tr")
    expect(rows).to_have_count(3)
    table = page.locator("#messages-shown")
    expect(table).to_contain_text("Spring news")
    expect(table).to_contain_text("Unsubscribed from this email")
    expect(table).to_contain_text("Try dark mode")
    expect(table).to_contain_text("Dismissed")
    expect(table).to_contain_text("Invoice ready")
    expect(table).to_contain_text("550 mailbox unavailable")
    page.locator("#email-status").scroll_into_view_if_needed()
    screenshot(page, "profile-email")
    page.locator("#email-status").screenshot(path=screenshot_path("profile-email-section"))
    page.locator("#messages-shown").screenshot(path=screenshot_path("profile-messages-section"))
    assert SubscriptionChange.objects.filter(person=person).count() == 3
    assert_clean(page)


def test_profile_of_a_user_who_gets_email_and_one_without_an_address(
    signed_in: Any, team: Team
) -> None:
    page = signed_in
    add_users(team.workspace, [{"id": "u1", "email": "bo@example.com"}, {"id": "u2"}])
    ok = Person.objects.get(external_id="u1")
    page.goto(f"{page.base}/users/{ok.pk}/")
    expect(page.locator("#email-status")).to_contain_text("Gets email")
    expect(page.locator("#email-status")).to_contain_text("has not changed")
    expect(page.locator("#messages-shown")).to_contain_text("No message has been shown")
    none = Person.objects.get(external_id="u2")
    page.goto(f"{page.base}/users/{none.pk}/")
    expect(page.get_by_role("list", name="Why this user gets no email")).to_have_text(
        "No email address"
    )
    assert_clean(page)


def screenshot_path(name: str) -> str:
    import os

    from tests.conftest import ARTIFACTS

    os.makedirs(ARTIFACTS, exist_ok=True)
    return os.path.join(ARTIFACTS, f"{name}.png")
