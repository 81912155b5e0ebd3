"""Bounces and complaints from an email service's webhook become suppressions (SPEC §13).

Postmark's tracking webhook (as Postmark posts it: JSON, HTTP basic auth in
the URL), through django-anymail's normalised events, served by uvicorn.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pavior.messaging.models import Suppression
from pavior.messaging.suppressions import is_suppressed
from tests.messaging.conftest import Emailed, email_someone

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = ("postmark", "s3cret-hook-password")


@pytest.fixture
def hook(settings: Any, served: Any) -> str:
    settings.ANYMAIL_WEBHOOK_SECRET = ":".join(SECRET)
    return f"{served.url}/email/webhooks/postmark/tracking/"


def bounce(email: str, workspace: Any = None, kind: str = "HardBounce") -> dict[str, Any]:
    """A Postmark bounce webhook body (their documented example, trimmed)."""
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"pavior_workspace": str(workspace.pk)} if workspace is not None else {},
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user, "
        "mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "hello@acme.example",
        "BouncedAt": "2026-12-01T16:33:54.9070259Z",
        "DumpAvailable": False,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Spring news",
    }


def complaint(email: str, workspace: Any) -> dict[str, Any]:
    body = bounce(email, workspace, kind="SpamComplaint")
    body.update(RecordType="SpamComplaint", Name="Spam complaint", TypeCode=512)
    return body


def post(url: str, body: Any, auth: Any = SECRET) -> httpx.Response:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return httpx.post(url, content=content, auth=auth, headers={"Content-Type": "application/json"})


def rows() -> list[tuple[int, str, str]]:
    return sorted(Suppression.objects.values_list("workspace_id", "email", "reason"))


def test_a_hard_bounce_suppresses_the_address_in_the_named_workspace(
    hook: str, emailed: Emailed
) -> None:
    ws = emailed.workspace
    r = post(hook, bounce("Ada@Example.COM", ws))
    assert r.status_code == 200, r.text
    assert rows() == [(ws.pk, "ada@example.com", "bounce")]
    row = Suppression.objects.get()
    assert row.detail.startswith("Postmark: The server was unable")
    assert "550 5.1.1" in row.detail
    assert is_suppressed(ws.pk, "ada@EXAMPLE.com")
    # Services retry webhooks: a repeat records nothing new.
    assert post(hook, bounce("ada@example.com", ws)).status_code == 200
    assert Suppression.objects.count() == 1


def test_a_complaint_is_recorded_and_outranks_a_bounce(hook: str, emailed: Emailed) -> None:
    ws = emailed.workspace
    assert post(hook, bounce("ada@example.com", ws)).status_code == 200
    assert post(hook, complaint("ada@example.com", ws)).status_code == 200
    assert rows() == [(ws.pk, "ada@example.com", "complaint")]
    assert post(hook, bounce("ada@example.com", ws)).status_code == 200
    assert rows() == [(ws.pk, "ada@example.com", "complaint")]


def test_soft_bounces_and_other_events_change_nothing(hook: str, emailed: Emailed) -> None:
    ws = emailed.workspace
    assert post(hook, bounce("ada@example.com", ws, kind="SoftBounce")).status_code == 200
    delivered = {
        "RecordType": "Delivery",
        "MessageID": "x",
        "Recipient": "ada@example.com",
        "DeliveredAt": "2026-12-01T16:33:54Z",
        "Metadata": {"pavior_workspace": str(ws.pk)},
    }
    assert post(hook, delivered).status_code == 200
    assert rows() == []


def test_without_metadata_the_workspaces_that_emailed_the_address_suppress_it(
    hook: str, emailed: Emailed
) -> None:
    from pavior.core.attributes import Trust
    from pavior.messaging.actions import create_message
    from pavior.messaging.models import Delivery
    from pavior.people.actions import upsert_user
    from pavior.people.models import Person
    from pavior.workspaces.actions import create_workspace

    other = email_someone(create_workspace("Other").workspace, "o1", "ADA@example.com")
    # A third workspace knows the address and showed the user an in-site message,
    # but never emailed it: not its business.
    never = create_workspace("Never").workspace
    upsert_user(never, {"id": "n1", "email": "ada@example.com"}, trust=Trust.SECRET)
    shown = create_message(never, "in_app", {"title": "Hi", "body": "x"})
    Delivery.objects.create(
        workspace=never,
        message=shown,
        person=Person.objects.get(workspace=never),
        state=Delivery.State.SHOWN,
    )
    assert post(hook, bounce("ada@example.com")).status_code == 200
    assert rows() == [
        (emailed.workspace.pk, "ada@example.com", "bounce"),
        (other.workspace.pk, "ada@example.com", "bounce"),
    ]
    # An address no workspace emailed, or a workspace that does not exist: nothing.
    assert post(hook, bounce("nobody@example.com")).status_code == 200
    unknown = bounce("ada@example.com")
    unknown["Metadata"] = {"pavior_workspace": "999999"}
    assert post(hook, unknown).status_code == 200
    assert len(rows()) == 2


def test_wrong_credentials_or_malformed_bodies_are_4xx_and_record_nothing(
    hook: str, emailed: Emailed, settings: Any
) -> None:
    ws = emailed.workspace
    good = bounce("ada@example.com", ws)
    assert post(hook, good, auth=("postmark", "wrong")).status_code == 403
    assert post(hook, good, auth=None).status_code == 403
    assert post(hook, good, auth=("", "")).status_code == 403
    for body in (b"{not json", b"", b"[1, 2]", b'"a string"', b"null", b"\xff\xfe"):
        r = post(hook, body)
        assert r.status_code == 400, (body, r.status_code)
        assert r.json()["error"]["code"] == "malformed"
    # Odd shapes inside a readable body: refused by the parser, or read and ignored.
    assert post(hook, dict(good, Metadata="pavior")).status_code == 400
    for odd in (
        dict(good, Email=["ada@example.com"]),
        dict(good, Email="not an address"),
        dict(good, Email="x" * 5000 + "@example.com"),
        dict(good, Metadata={"pavior_workspace": {"id": ws.pk}}),
        dict(good, Metadata={"pavior_workspace": "1e3"}),
        dict(good, Metadata={"pavior_workspace": True}),
    ):
        assert post(hook, odd).status_code == 200, odd
    assert httpx.get(hook, auth=SECRET).status_code == 405
    base = hook.rsplit("/postmark/", 1)[0]
    assert post(f"{base}/nosuchservice/tracking/", good).status_code == 404
    assert rows() == []
    # With no secret configured the endpoints are off, rather than open to anyone.
    settings.ANYMAIL_WEBHOOK_SECRET = ""
    r = post(hook, good)
    assert r.status_code == 404 and r.json()["error"]["code"] == "webhooks_off"
    assert rows() == []
