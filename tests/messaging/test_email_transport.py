"""The email boundary without SMTP: another Django backend (as django-anymail is),
and how an email service's errors are counted."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core import mail as django_mail

from pavior.messaging import mail, sending
from pavior.messaging.models import Delivery, Message
from pavior.messaging.transport import BackendTransport, _service_outcome, open_transport

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def service(settings: Any) -> Any:
    """Email through a non-SMTP Django backend (locmem stands for an email service)."""
    settings.PAVIOR_SMTP_URL = ""
    settings.PAVIOR_EMAIL_BACKEND = settings.EMAIL_BACKEND = (
        "django.core.mail.backends.locmem.EmailBackend"
    )
    settings.PAVIOR_EMAIL_FROM = "Acme <hello@acme.example>"
    settings.PAVIOR_EMAIL_REPLY_TO = ""
    settings.PAVIOR_EMAIL_RATE = 0
    settings.SITE_URL = "https://pavior.acme.example"
    django_mail.outbox = []
    return settings


def test_an_email_service_backend_gets_each_email_with_its_headers(api: Any, service: Any) -> None:
    assert isinstance(open_transport(), BackendTransport)
    for i in range(3):
        assert api.put(f"/users/u{i}", {"email": f"u{i}@example.com"}).status_code == 201
    r = api.post("/messages", {"channel": "email", "subject": "S", "body": "B", "status": "live"})
    assert r.status_code == 201, r.content
    worker = sending.Worker()
    while worker.tick():
        pass
    assert sorted(m.to[0] for m in django_mail.outbox) == [f"u{i}@example.com" for i in range(3)]
    sent = django_mail.outbox[0]
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent.extra_headers["List-Unsubscribe"].startswith(
        "<https://pavior.acme.example/email/unsubscribe/"
    )
    assert Delivery.objects.filter(message_id=r.json()["id"], state="sent").count() == 3
    # The service hands this back with a bounce or complaint (the webhook's workspace).
    workspace_id = Delivery.objects.filter(message_id=r.json()["id"]).first().workspace_id
    assert sent.metadata == {"pavior_workspace": str(workspace_id)}


def api_error(status: int) -> AnymailAPIError:
    """The error anymail raises for an HTTP answer of the service."""
    response = requests.Response()
    response.status_code, response.reason, response._content = status, "Reason", b"{}"
    return AnymailAPIError("refused", status_code=status, response=response)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (AnymailRecipientsRefused("refused"), "permanent"),
        (api_error(429), "transient"),
        (api_error(502), "transient"),
        (api_error(400), "permanent"),
        (api_error(500), "unknown"),
        (AnymailAPIError("timed out"), "unknown"),
        (ConnectionRefusedError(), "transient"),
    ],
)
def test_an_email_service_error_is_counted_by_what_it_may_mean(error: Exception, kind: str) -> None:
    assert _service_outcome(error).kind == kind


def test_send_test_through_the_service(api: Any, service: Any) -> None:
    r = api.post("/messages", {"channel": "email", "subject": "S", "body": "B"})
    message = Message.objects.get(pk=r.json()["id"])
    assert sending.send_test(message, "Me <me@acme.example>").kind == "sent"
    assert [m.to for m in django_mail.outbox] == [["Me <me@acme.example>"]]
    assert django_mail.outbox[0].subject == "[Test] S"
    assert isinstance(mail.prepare(message), mail.Prepared)
