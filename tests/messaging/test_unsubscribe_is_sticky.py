"""An unsubscribe is sticky (SPEC §7): after a user unsubscribes from an email's
link, no door but the user's own can set email_subscription back to true.

Each door is driven as its callers drive it, against the served application:
the REST API (PUT and POST /users), the Segment-compatible identify with a
secret key, the CSV import (REST /imports), and the admin's profile page.
Only the user's own Resubscribe (the page's button) brings them back.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from pavior.workspaces.actions import create_workspace
from tests.messaging.conftest import email_someone
from tests.web.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def unsubscribed(served: Any) -> Any:
    """An emailed user who clicked one-click unsubscribe; the workspace's API key."""
    made = create_workspace("Acme")
    emailed = email_someone(made.workspace)
    r = httpx.post(emailed.link(served.url), data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and emailed.reload().email_subscription is False
    emailed.api_key = made.api_key  # type: ignore[attr-defined]
    return emailed


def still_unsubscribed(emailed: Any, served: Any) -> None:
    assert emailed.reload().email_subscription is False
    r = httpx.get(
        f"{served.url}/api/v1/users/u1", headers={"Authorization": f"Bearer {emailed.api_key}"}
    )
    assert r.json()["email_subscription"] is False


def test_the_rest_api_cannot_resubscribe(served: Any, unsubscribed: Any) -> None:
    headers = {"Authorization": f"Bearer {unsubscribed.api_key}"}
    r = httpx.put(
        f"{served.url}/api/v1/users/u1",
        json={"email_subscription": True, "name": "Ada L"},
        headers=headers,
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "unsubscribed"
    assert r.json()["error"]["field"] == "email_subscription"
    r = httpx.post(
        f"{served.url}/api/v1/users",
        json={"email": "ada@example.com", "id": "u1", "email_subscription": True},
        headers=headers,
    )
    assert r.status_code == 422
    still_unsubscribed(unsubscribed, served)
    # Writing false again, or leaving it out, is fine.
    r = httpx.put(
        f"{served.url}/api/v1/users/u1", json={"email_subscription": False}, headers=headers
    )
    assert r.status_code == 200
    still_unsubscribed(unsubscribed, served)


def test_segment_identify_with_the_secret_key_cannot_resubscribe(
    served: Any, unsubscribed: Any
) -> None:
    r = httpx.post(
        f"{served.url}/v1/identify",
        json={"userId": "u1", "traits": {"email_subscription": True, "plan": "pro"}},
        auth=(unsubscribed.api_key, ""),
    )
    assert r.status_code == 200, r.text
    errors = r.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("email_subscription", "unsubscribed")]
    still_unsubscribed(unsubscribed, served)


def test_an_import_cannot_resubscribe(served: Any, unsubscribed: Any) -> None:
    headers = {"Authorization": f"Bearer {unsubscribed.api_key}"}
    csv = b"id,email,email_subscription\nu1,ada@example.com,true\nu2,bob@example.com,true\n"
    r = httpx.post(
        f"{served.url}/api/v1/imports",
        files={"file": ("people.csv", csv, "text/csv")},
        data={"mapping": json.dumps({}), "mode": "upsert"},
        headers=headers,
    )
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 30
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = httpx.get(f"{served.url}/api/v1/imports/{r.json()['id']}", headers=headers).json()
        if body["status"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.1)
    assert body["status"] == "done", body
    assert body["result"]["subscription_kept"] == 1
    still_unsubscribed(unsubscribed, served)
    from pavior.people.models import Person

    assert Person.objects.get(external_id="u2").email_subscription is True


def test_the_admin_cannot_resubscribe_from_the_profile(
    served: Any, unsubscribed: Any, page: Any
) -> None:
    from pavior.workspaces.actions import create_admin

    create_admin("owner@example.com", PASSWORD, workspaces=[unsubscribed.workspace])
    sign_in(page, served.url, "owner@example.com", PASSWORD)
    pk = unsubscribed.person.pk
    page.goto(f"{served.url}/users/{pk}/")
    assert page.get_by_label("Email Subscription").count() == 0  # no field to edit
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    r = page.request.post(
        f"{served.url}/users/{pk}/attributes/email_subscription/",
        form={"value": "true", "csrfmiddlewaretoken": token},
        headers={"X-CSRFToken": token, "Referer": f"{served.url}/users/{pk}/"},
    )
    assert r.status == 404
    still_unsubscribed(unsubscribed, served)


def test_only_the_users_own_resubscribe_brings_them_back(served: Any, unsubscribed: Any) -> None:
    with httpx.Client() as browser:
        link = unsubscribed.link(served.url)
        r = browser.get(link)
        token = browser.cookies["csrftoken"]
        r = browser.post(
            link + "/resubscribe",
            data={"csrfmiddlewaretoken": token},
            headers={"Origin": served.url, "Referer": link},
        )
        assert r.status_code == 200, r.text
    assert unsubscribed.reload().email_subscription is True
