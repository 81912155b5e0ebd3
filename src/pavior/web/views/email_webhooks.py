"""Email service webhooks: bounces and complaints become suppressions (SPEC §13).

`POST /email/webhooks/<esp>/tracking/` hands the request to django-anymail's
tracking webhook view for that email service. Anymail checks the request
(HTTP basic auth against ANYMAIL WEBHOOK_SECRET, which Pavior reads from
PAVIOR_EMAIL_WEBHOOK_SECRET; plus the service's own signature where it has
one), normalises the service's events and sends them on its ``tracking``
signal, whose receiver (pavior.messaging.suppressions.on_tracking) records
hard bounces and complaints. Tested end to end with Postmark (docs/email-bounces.md).

Pavior's wrapper adds what anymail leaves to the site:
- no secret configured: 404, never anymail's "insecure webhook" mode that
  takes anyone's post;
- a wrong or missing secret or signature: 403; a body the service's parser
  cannot read: 400 (anymail would let both become a 500 or a bare 400);
  nothing is recorded in either case.
A failure while recording (the database down) stays a 500, so the service
retries later.
"""

from __future__ import annotations

from typing import Any

from anymail.exceptions import AnymailError, AnymailWebhookValidationFailure
from anymail.utils import get_anymail_setting
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.brevo import BrevoTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.resend import ResendTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

# Services whose tracking webhook is wired (Postmark is the one the tests drive).
TRACKING_VIEWS: dict[str, Any] = {
    "postmark": PostmarkTrackingWebhookView,
    "mailgun": MailgunTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
    "amazon_ses": AmazonSESTrackingWebhookView,
    "brevo": BrevoTrackingWebhookView,
    "resend": ResendTrackingWebhookView,
    "sparkpost": SparkPostTrackingWebhookView,
}


class _Malformed(Exception):
    pass


def _safe_parse(self: Any, request: HttpRequest) -> Any:
    try:
        parent: Any = type(self).__mro__[1]
        events = parent.parse_events(self, request)
        return list(events)
    except AnymailWebhookValidationFailure:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, AnymailError) as exc:
        raise _Malformed(str(exc)[:200]) from exc
    except ImproperlyConfigured as exc:  # e.g. Postmark's inbound hook sent to the tracking URL
        raise _Malformed(str(exc)[:200]) from exc


# Subclasses whose parser turns a body it cannot read into _Malformed.
def _wrapped(cls: Any) -> Any:
    safe: Any = type(f"Pavior{cls.__name__}", (cls,), {"parse_events": _safe_parse})
    return safe.as_view()


_VIEWS = {name: _wrapped(cls) for name, cls in TRACKING_VIEWS.items()}


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "field": None}}, status=status)


@csrf_exempt  # a server-to-server call, authenticated by the webhook secret, not a session
def tracking_webhook(request: HttpRequest, esp: str) -> HttpResponse:
    view = _VIEWS.get(esp)
    if view is None:
        return _error(404, "unknown_service", f"No email service webhook named {esp[:50]!r}")
    if not get_anymail_setting("webhook_secret", default=None):
        return _error(
            404,
            "webhooks_off",
            "Email webhooks are off: set PAVIOR_EMAIL_WEBHOOK_SECRET (see docs/email-bounces.md)",
        )
    if request.method not in ("POST", "HEAD", "OPTIONS"):
        return _error(405, "method_not_allowed", "Email service webhooks take POST")
    try:
        response: HttpResponse = view(request)
    except AnymailWebhookValidationFailure:
        return _error(403, "bad_signature", "The webhook's credentials or signature are wrong")
    except _Malformed as exc:
        return _error(400, "malformed", f"The webhook's body could not be read: {exc}")
    except ImproperlyConfigured:
        return _error(404, "webhooks_off", f"The {esp} webhook is not configured")
    return response
