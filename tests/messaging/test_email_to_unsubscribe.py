"""From a sent email to an unsubscribe, over real SMTP and real HTTP: the link an
email carries (header and footer) works on the served app, a mail scanner's GET
changes nothing, the one-click POST unsubscribes, and the next email skips the user."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from pavior.messaging import sending
from pavior.messaging.models import Delivery, SubscriptionChange
from pavior.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


def drain(worker: sending.Worker) -> None:
    for _ in range(50):
        if not worker.tick():
            return
    raise AssertionError("the worker never ran out of work")


def send(api: Any, subject: str) -> int:
    r = api.post(
        "/messages", {"channel": "email", "subject": subject, "body": "Hi.", "status": "live"}
    )
    assert r.status_code == 201, r.content
    drain(sending.Worker())
    return int(r.json()["id"])


def test_the_link_in_a_sent_email_unsubscribes_through_the_served_app(
    api: Any, smtp: Any, email_settings: Any, served: Any
) -> None:
    email_settings.SITE_URL = served.url  # links point at the app under test
    assert api.put("/users/u1", {"email": "ada@example.com"}).status_code == 201
    first = send(api, "Spring news")

    [mail] = [m.message for m in smtp.received]
    header = mail["List-Unsubscribe"]
    [link] = re.findall(r"<(http[^>]+)>", header)
    assert link.startswith(served.url + "/email/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert link in html and link in text  # the visible link is the same one

    # A mail scanner fetching the link changes nothing.
    page = httpx.get(link, timeout=30)
    assert page.status_code == 200 and "Unsubscribe" in page.text
    assert Person.objects.get(external_id="u1").email_subscription is True

    # The mail client's one-click POST (RFC 8058): no cookie, no token, no redirect.
    done = httpx.post(
        link,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert done.status_code == 200
    person = Person.objects.get(external_id="u1")
    assert person.email_subscription is False
    change = SubscriptionChange.objects.get(person=person)
    assert (change.source, change.message_id) == ("one_click", first)
    assert api.get(f"/messages/{first}/stats").json()["unsubscribed"] == 1

    # The next email is not sent to them: skipped, with the reason.
    second = send(api, "Summer news")
    assert len(smtp.received) == 1
    row = Delivery.objects.get(message_id=second, person=person)
    assert row.state == "skipped" and "unsubscribed" in row.reason
