"""The email unsubscribe page (SPEC §7, §13; RFC 8058, RFC 2369).

`/email/unsubscribe/<token>` is the address every email carries in its
`List-Unsubscribe` header and its footer link. The token is signed
(pavior.messaging.tokens) and names the workspace, the user and the message.

- GET shows a page with an "Unsubscribe" button and changes nothing: mail
  scanners and link previewers fetch every link in a message.
- POST unsubscribes at once, with no login, no second step and no redirect,
  answering 200 whatever the previous state (idempotent). It is either a
  mail client's one-click request (RFC 8058: the body
  `List-Unsubscribe=One-Click`, sent by the receiving mail system with no
  cookies, so it cannot carry a CSRF token: the view is csrf_exempt by
  design, and the signed token in the address is what authorises it), or
  the page's own button. What a forged cross-site POST could do is what the
  link's owner asked for: unsubscribe that one user, which is harmless.
- After unsubscribing, the page offers "Resubscribe": the user's own action
  (only it may undo an unsubscribe, §7), posted to
  `/email/unsubscribe/<token>/resubscribe` with the page's CSRF token, since
  a resubscribe forged by another site would not be the user's choice.

Every request counts against `pavior.rate_limits.check_unsubscribe`: a
genuine link per user it names, anything else per client address
(_limit_subject says why). Bad links (malformed, tampered, for a user who has been
erased, ids that do not belong together) get a 4xx page that says so, and
nothing changes.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from pavior import rate_limits
from pavior.messaging.actions import change_subscription
from pavior.messaging.models import Message, SubscriptionChange
from pavior.messaging.tokens import BadToken, read_token
from pavior.people.models import Person
from pavior.workspaces.addresses import request_ip
from pavior.workspaces.models import Workspace

ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"


class _Gone(Exception):
    """The token is genuine but what it names is no longer there (or never belonged together)."""


def _resolve(token: str) -> tuple[Workspace, Person, Message | None]:
    """The workspace, user and message a token names; raises BadToken or _Gone.

    The message may have been deleted since it was sent: the user can still
    unsubscribe (the law and the mail providers expect a link to keep
    working); it is then recorded without a message. A message that exists
    but belongs to another workspace is refused.
    """
    claims = read_token(token)
    person = (
        Person.objects.select_related("workspace")
        .filter(pk=claims.person_id, workspace_id=claims.workspace_id)
        .first()
    )
    if person is None:
        raise _Gone("This link is for a user who no longer exists")
    message = Message.objects.filter(pk=claims.message_id).first()
    if message is not None and (
        message.workspace_id != claims.workspace_id or message.channel != Message.Channel.EMAIL
    ):
        raise _Gone("This link does not belong to an email from this sender")
    return person.workspace, person, message


def _page(
    request: HttpRequest, template_context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, "web/unsubscribe.html", template_context, status=status)
    # The token is in the address: keep it out of other sites' referrers (same-origin
    # still sends the Origin the resubscribe form's CSRF check needs), caches and search engines.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _refusal(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    return _page(request, {"state": "error", "title": title, "text": text}, status=status)


def _limit_subject(request: HttpRequest, token: str) -> str:
    """What a request counts against (pavior.rate_limits.check_unsubscribe).

    A genuine link counts against the user it names: one link replayed in a
    loop is stopped, while a mailbox provider relaying thousands of users'
    one-click requests from a few addresses (Gmail does) is not refused,
    since each request is a different user's. Anything else (a tampered or
    made-up token) counts against the client's address, which stops guessing.
    """
    try:
        claims = read_token(token)
    except BadToken:
        return request_ip(request)
    return f"link:{claims.workspace_id}:{claims.person_id}"


def _rate_limited(request: HttpRequest, token: str) -> HttpResponse | None:
    wait = rate_limits.check_unsubscribe(_limit_subject(request, token))
    if not wait:
        return None
    minutes = max(1, round(wait / 60))
    response = _refusal(
        request,
        429,
        "Too many requests",
        "Too many unsubscribe requests came for this link or from your address. "
        f"Wait {minutes} minute{'s' * (minutes != 1)} and try again.",
    )
    response["Retry-After"] = str(wait)
    return response


def _checked(
    request: HttpRequest, token: str
) -> tuple[Workspace, Person, Message | None] | HttpResponse:
    """The token's (workspace, person, message), or the 4xx response to send instead."""
    try:
        return _resolve(token)
    except BadToken:
        return _refusal(
            request,
            400,
            "This unsubscribe link is not valid",
            "The link may have been cut short or changed. Open it again from the email, "
            "or use the unsubscribe link of a more recent email.",
        )
    except _Gone as exc:
        return _refusal(request, 404, "This unsubscribe link no longer works", str(exc) + ".")


def _context(
    ws: Workspace, person: Person, message: Message | None, **extra: Any
) -> dict[str, Any]:
    return {
        "sender": ws.name,
        "address": person.email or "",
        "subject": message.subject if message is not None else "",
        "subscribed": person.email_subscription,
        **extra,
    }


@csrf_exempt  # RFC 8058 one-click POSTs come from mail systems: no cookie, no CSRF token
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if refused := _rate_limited(request, token):
        return refused
    found = _checked(request, token)
    if isinstance(found, HttpResponse):
        return found
    ws, person, message = found
    if request.method != "POST":
        state = "ask" if person.email_subscription else "already"
        return _page(request, _context(ws, person, message, state=state, token=token))
    one_click = request.POST.get(ONE_CLICK_FIELD, "").strip().lower() == ONE_CLICK_VALUE.lower()
    source = (
        SubscriptionChange.Source.ONE_CLICK
        if one_click
        else SubscriptionChange.Source.UNSUBSCRIBE_LINK
    )
    change_subscription(person, False, source=source, message=message)
    return _page(request, _context(ws, person, message, state="done", token=token))


@never_cache
@require_http_methods(["POST"])
def resubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The user's own resubscribe, from the page (CSRF-checked by the middleware)."""
    if refused := _rate_limited(request, token):
        return refused
    found = _checked(request, token)
    if isinstance(found, HttpResponse):
        return found
    ws, person, message = found
    change_subscription(
        person, True, source=SubscriptionChange.Source.UNSUBSCRIBE_LINK, message=message
    )
    return _page(request, _context(ws, person, message, state="resubscribed", token=token))
