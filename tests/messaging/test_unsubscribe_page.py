"""The email unsubscribe link as mail clients, scanners and people use it (SPEC §7, §13).

Through the served application (uvicorn + pavior.asgi) with httpx for what a
mail system sends, and Chromium for the page a person sees.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.core import signing
from playwright.sync_api import expect

from pavior.messaging.models import Delivery, SubscriptionChange
from pavior.messaging.tokens import make_token
from tests.conftest import screenshot
from tests.messaging.conftest import Emailed, email_someone
from tests.web.conftest import assert_clean

pytestmark = pytest.mark.django_db(transaction=True)

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def changes(emailed: Emailed) -> list[tuple[bool, str]]:
    return list(
        SubscriptionChange.objects.filter(person=emailed.person)
        .order_by("pk")
        .values_list("subscribed", "source")
    )


def test_get_shows_an_unsubscribe_button_and_changes_nothing(served: Any, emailed: Emailed) -> None:
    link = emailed.link(served.url)
    for _ in range(3):  # a scanner, a preview, the person: all only look
        r = httpx.get(link)
        assert r.status_code == 200
        assert '<button type="submit" class="btn btn-primary">Unsubscribe</button>' in r.text
        assert "ada@example.com" in r.text and "Spring news" in r.text
    assert httpx.head(link).status_code == 200
    assert httpx.get(link + "/").status_code == 200  # a trailing slash added by a client
    assert emailed.reload().email_subscription is True
    assert changes(emailed) == []
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "same-origin"
    assert "no-store" in r.headers["cache-control"]


def test_one_click_post_unsubscribes_at_once_without_cookies(served: Any, emailed: Emailed) -> None:
    """RFC 8058: the mail system POSTs the body, with no cookie and no CSRF token."""
    link = emailed.link(served.url)
    with httpx.Client(follow_redirects=False) as mail_system:
        r = mail_system.post(link, data=ONE_CLICK)
        assert r.status_code == 200, r.text
        assert "You are unsubscribed" in r.text
        assert emailed.reload().email_subscription is False
        assert changes(emailed) == [(False, "one_click")]
        delivery = Delivery.objects.get(message=emailed.message, person=emailed.person)
        assert delivery.unsubscribed_at is not None
        # A repeat (mail systems retry) answers the same and records nothing more.
        again = mail_system.post(link, data=ONE_CLICK)
        assert again.status_code == 200 and "You are unsubscribed" in again.text
        assert changes(emailed) == [(False, "one_click")]
        # multipart/form-data is allowed by RFC 8058 too.
        r = mail_system.post(link, files={"List-Unsubscribe": (None, "One-Click")})
        assert r.status_code == 200
    change = SubscriptionChange.objects.get(person=emailed.person)
    assert change.message_id == emailed.message.pk
    assert change.workspace_id == emailed.workspace.pk


def test_a_post_without_the_one_click_body_is_the_pages_button(
    served: Any, emailed: Emailed
) -> None:
    r = httpx.post(emailed.link(served.url))
    assert r.status_code == 200
    assert emailed.reload().email_subscription is False
    assert changes(emailed) == [(False, "unsubscribe_link")]


def test_bad_links_get_a_4xx_page_and_change_nothing(served: Any, emailed: Emailed) -> None:
    from pavior.messaging.actions import create_message
    from pavior.workspaces.actions import create_workspace

    other = email_someone(create_workspace("Other").workspace, "u9", "bob@example.com")
    in_app = create_message(emailed.workspace, "in_app", {"title": "Hi", "body": "x"})
    good = emailed.token
    payload, _, signature = good.rpartition(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    bad = {
        "tampered signature": f"{payload}:{flipped}",
        "tampered payload": good.replace(good[1], "Z" if good[1] != "Z" else "Y", 1),
        "another key's signature": signing.dumps([1, 1, 1], salt="something else"),
        "not a token": "hello",
        "odd characters": "%E2%98%83%00%27%22%3Cscript%3E",
        "huge": "A" * 5000,
        "user of another workspace": make_token(emailed.workspace.pk, other.person.pk, 1),
        "message of another workspace": make_token(
            emailed.workspace.pk, emailed.person.pk, other.message.pk
        ),
        "in-site message": make_token(emailed.workspace.pk, emailed.person.pk, in_app.pk),
        "unknown workspace": make_token(999999, emailed.person.pk, emailed.message.pk),
        "unknown user": make_token(emailed.workspace.pk, 999999, emailed.message.pk),
        "negative ids": signing.dumps([-1, 0, 2], salt="pavior.messaging.unsubscribe"),
    }
    for name, token in bad.items():
        url = f"{served.url}/email/unsubscribe/{token}"
        for method in ("GET", "POST"):
            r = httpx.request(method, url, data=ONE_CLICK if method == "POST" else None)
            assert 400 <= r.status_code < 500, (name, method, r.status_code)
            if r.status_code in (400, 404) and "text/html" in r.headers["content-type"]:
                assert "link" in r.text.lower(), name
        r = httpx.post(url + "/resubscribe")
        assert 400 <= r.status_code < 500, (name, "resubscribe")
    assert httpx.get(f"{served.url}/email/unsubscribe/").status_code == 400
    assert httpx.put(emailed.link(served.url)).status_code == 405
    for e in (emailed, other):
        assert e.reload().email_subscription is True
    assert not SubscriptionChange.objects.exists()


def test_unreadable_post_bodies_are_4xx_and_change_nothing(served: Any, emailed: Emailed) -> None:
    link = emailed.link(served.url)
    # (A body Django reads as empty is a POST like the page's button: it unsubscribes.)
    bodies = [
        ("multipart/form-data", b"no boundary"),
        ("application/x-www-form-urlencoded", b"List-Unsubscribe=" + b"A" * 3_000_000),
    ]
    for content_type, body in bodies:
        r = httpx.post(link, content=body, headers={"Content-Type": content_type})
        assert 400 <= r.status_code < 500, (content_type, r.status_code)
    assert emailed.reload().email_subscription is True


def test_a_link_for_an_erased_user_is_a_404_page(served: Any, emailed: Emailed) -> None:
    from pavior.people.actions import erase_user

    erase_user(emailed.workspace, "u1")
    r = httpx.post(emailed.link(served.url), data=ONE_CLICK)
    assert r.status_code == 404
    assert "no longer works" in r.text


def test_a_deleted_message_still_lets_the_user_unsubscribe(served: Any, emailed: Emailed) -> None:
    """Mail providers and the law expect the link to keep working after a send."""
    from pavior.messaging.actions import delete_message

    delete_message(emailed.workspace, emailed.message.pk)
    assert httpx.get(emailed.link(served.url)).status_code == 200
    r = httpx.post(emailed.link(served.url), data=ONE_CLICK)
    assert r.status_code == 200
    assert emailed.reload().email_subscription is False
    assert SubscriptionChange.objects.get(person=emailed.person).message is None


def test_one_link_replayed_or_junk_from_one_address_gets_a_429(
    served: Any, emailed: Emailed, rate_limits: Any
) -> None:
    rate_limits.PAVIOR_RATE_LIMIT_UNSUBSCRIBE_PER_ADDRESS = 3
    link = emailed.link(served.url)
    assert [httpx.get(link).status_code for _ in range(3)] == [200, 200, 200]
    r = httpx.post(link, data=ONE_CLICK)
    assert r.status_code == 429
    assert 0 < int(r.headers["retry-after"]) <= 3600
    assert "Too many" in r.text
    assert emailed.reload().email_subscription is True  # refused: nothing done
    # Made-up tokens count against the client's address.
    junk = [httpx.get(f"{served.url}/email/unsubscribe/guess{i}").status_code for i in range(4)]
    assert junk == [400, 400, 400, 429]


def test_a_mail_provider_relaying_many_users_one_clicks_is_not_refused(
    served: Any, emailed: Emailed, rate_limits: Any
) -> None:
    """Gmail sends its users' one-click requests from a few addresses of its own."""
    rate_limits.PAVIOR_RATE_LIMIT_UNSUBSCRIBE_PER_ADDRESS = 3
    others = [email_someone(emailed.workspace, f"u{i}", f"u{i}@example.com") for i in range(2, 8)]
    for e in others:
        assert httpx.post(e.link(served.url), data=ONE_CLICK).status_code == 200
        assert e.reload().email_subscription is False


def test_resubscribe_needs_the_pages_csrf_token(served: Any, emailed: Emailed) -> None:
    link = emailed.link(served.url)
    assert httpx.post(link, data=ONE_CLICK).status_code == 200
    r = httpx.post(link + "/resubscribe")  # a forged cross-site post: no token, no cookie
    assert r.status_code == 403
    assert emailed.reload().email_subscription is False


def test_a_person_unsubscribes_and_resubscribes_in_the_browser(
    served: Any, emailed: Emailed, page: Any
) -> None:
    page.goto(emailed.link(served.url))
    expect(page.get_by_role("heading", name="Unsubscribe from Acme emails?")).to_be_visible()
    screenshot(page, "unsubscribe-ask")
    assert emailed.reload().email_subscription is True
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    assert page.url == emailed.link(served.url)  # no redirect
    screenshot(page, "unsubscribe-done")
    assert emailed.reload().email_subscription is False
    assert changes(emailed) == [(False, "unsubscribe_link")]

    # Back on the link later: it says so, and offers to undo.
    page.goto(emailed.link(served.url))
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    page.get_by_role("button", name="Resubscribe").click()
    expect(page.get_by_role("heading", name="You are subscribed again")).to_be_visible()
    screenshot(page, "unsubscribe-resubscribed")
    assert emailed.reload().email_subscription is True
    assert changes(emailed) == [(False, "unsubscribe_link"), (True, "unsubscribe_link")]

    # A link cut short by a mail client: the page says so.
    response = page.goto(emailed.link(served.url)[:-6])
    assert response is not None and response.status == 400
    expect(page.get_by_role("heading", name="This unsubscribe link is not valid")).to_be_visible()
    screenshot(page, "unsubscribe-bad-link")
    assert_clean(page)


def test_names_on_the_page_are_escaped(served: Any, transactional_db: Any) -> None:
    from pavior.workspaces.actions import create_workspace

    ws = create_workspace('<b id="ws">Acme</b>').workspace
    e = email_someone(ws, "u1", "x@example.com")
    e.message.subject = '<img src=x onerror="alert(1)">'
    e.message.save(update_fields=["subject"])
    r = httpx.get(e.link(served.url))
    assert r.status_code == 200
    assert "<img src=x" not in r.text and '<b id="ws">' not in r.text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in r.text
    assert "&lt;b id=&quot;ws&quot;&gt;Acme&lt;/b&gt;" in r.text
