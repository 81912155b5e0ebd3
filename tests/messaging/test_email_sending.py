"""Email messages go out over real SMTP: each user once, with the unsubscribe headers,
only to those who may get it, retried when the server says later, never when it says no."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from pavior.messaging import outbox, sending
from pavior.messaging.models import Delivery, Message, Suppression
from pavior.messaging.tokens import read_token
from pavior.people.models import Person
from tests.conftest import error_of

# Real commits: going live queues the audience on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

PRO = {"attribute": "plan", "op": "eq", "value": "pro"}


@pytest.fixture
def plan(api: Any) -> None:
    assert api.post("/attributes", {"name": "plan", "type": "string"}).status_code == 201


def add_user(api: Any, uid: str, **attrs: Any) -> Person:
    r = api.put(f"/users/{uid}", attrs)
    assert r.status_code in (200, 201), r.content
    return Person.objects.get(external_id=uid)


def go_live(api: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "channel": "email",
        "subject": "Big news",
        "body": "Hello **there**.\n\n[Docs](https://acme.example/docs)",
        "status": "live",
    }
    body.update(fields)
    r = api.post("/messages", body)
    assert r.status_code == 201, r.content
    return r.json()


class Clock:
    """The worker's clock, moved by the test (retry waits, the ongoing minute)."""

    def __init__(self) -> None:
        self.at = timezone.now()

    def __call__(self) -> Any:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def drain(worker: sending.Worker, rounds: int = 50) -> None:
    """Tick until a tick handles nothing."""
    for _ in range(rounds):
        if not worker.tick():
            return
    raise AssertionError("the worker never ran out of work")


def states(message_id: int) -> dict[str, str]:
    return {
        d.person.external_id: f"{d.state}{': ' + d.reason if d.reason else ''}"
        for d in Delivery.objects.filter(message_id=message_id).select_related("person")
    }


def test_going_live_sends_each_user_of_the_audience_one_copy_with_both_parts(
    api: Any, plan: None, smtp: Any, email_settings: Any
) -> None:
    for i in range(5):
        add_user(api, f"u{i}", email=f"u{i}@example.com", plan="pro" if i < 4 else "free")
    made = go_live(api, audience=PRO)
    # Decided at once: one pending row per member of the audience.
    assert api.get(f"/messages/{made['id']}/stats").json()["pending"] == 4
    worker = sending.Worker()
    drain(worker)
    drain(worker)  # again: nothing more goes out
    assert sorted(smtp.recipients()) == [f"u{i}@example.com" for i in range(4)]
    stats = api.get(f"/messages/{made['id']}/stats").json()
    assert stats["sent"] == 4 and stats["pending"] == 0 and stats["failed"] == 0

    got = next(m.message for m in smtp.received if m.rcpt_tos == ["u1@example.com"])
    assert got["Subject"] == "Big news"
    assert got["From"] == "Acme <hello@acme.example>"
    assert got["To"] == "u1@example.com"
    # RFC 8058 / RFC 2369: one-click unsubscribe naming this user and message.
    link = got["List-Unsubscribe"].strip()  # a long header is folded, as RFC 5322 allows
    assert link.startswith("<https://pavior.acme.example/email/unsubscribe/") and link.endswith(">")
    url = link[1:-1]
    claims = read_token(url.rsplit("/", 1)[1])
    u1 = Person.objects.get(external_id="u1")
    assert (claims.workspace_id, claims.person_id, claims.message_id) == (
        u1.workspace_id,
        u1.pk,
        made["id"],
    )
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got["List-Id"].endswith(".pavior.acme.example>")
    assert got["Message-ID"].startswith(f"<pavior.{made['id']}.")
    text = got.get_body(("plain",)).get_content()
    html = got.get_body(("html",)).get_content()
    assert "Hello there." in text and f"Unsubscribe: {url}" in text
    assert "<strong>there</strong>" in html
    # The footer's visible link is the header's URL, and the CSS is inlined.
    assert f'href="{url}"' in html and ">Unsubscribe</a>" in html
    assert "<style" not in html and 'style="' in html


def test_only_users_who_may_get_email_get_it_checked_at_send_time(
    api: Any, smtp: Any, email_settings: Any, workspace: Any
) -> None:
    add_user(api, "ok", email="ok@example.com")
    add_user(api, "noaddr", name="No address")
    add_user(api, "unsub", email="unsub@example.com", email_subscription=False)
    add_user(api, "bounced", email="Bounced@Example.com")
    later = add_user(api, "later", email="later@example.com")
    Suppression.objects.create(workspace=workspace, email="bounced@example.com", reason="bounce")
    made = go_live(api)
    # Unsubscribing after the decision and before the send still counts.
    later.email_subscription = False
    later.save()
    drain(sending.Worker())
    assert smtp.recipients() == ["ok@example.com"]
    assert states(made["id"]) == {
        "ok": "sent",
        "noaddr": "skipped: no email address",
        "unsub": "skipped: unsubscribed",
        "later": "skipped: unsubscribed",
        "bounced": "skipped: suppressed (bounce or complaint)",
    }
    stats = api.get(f"/messages/{made['id']}/stats").json()
    assert (stats["sent"], stats["skipped"]) == (1, 4)


def test_a_4xx_is_tried_again_later_and_a_5xx_never(
    api: Any, smtp: Any, email_settings: Any
) -> None:
    add_user(api, "grey", email="grey@example.com")
    add_user(api, "gone", email="gone@example.com")
    add_user(api, "fine", email="fine@example.com")
    tries: dict[str, int] = {}

    def rcpt(address: str) -> str | None:
        tries[address] = tries.get(address, 0) + 1
        if address == "gone@example.com":
            return "550 5.1.1 No such user"
        if address == "grey@example.com" and tries[address] == 1:
            return "451 4.7.1 Greylisted, come back later"
        return None

    smtp.rcpt_reply = rcpt
    made = go_live(api)
    clock = Clock()
    worker = sending.Worker(now=clock)
    drain(worker)
    assert smtp.recipients() == ["fine@example.com"]
    got = states(made["id"])
    assert got["gone"] == "failed: RCPT TO: 550 5.1.1 No such user"
    assert outbox.skipped_reasons(Message.objects.get(pk=made["id"])) == {
        "failed: refused by the mail server": 1
    }
    assert got["grey"].startswith("pending: will try again: RCPT TO: 451")
    drain(worker)  # not yet due: nothing is tried
    assert tries["grey@example.com"] == 1
    clock.advance(sending.RETRY_DELAYS[0] + 1)
    drain(worker)
    clock.advance(max(sending.RETRY_DELAYS) + 1)
    drain(worker)
    assert sorted(smtp.recipients()) == ["fine@example.com", "grey@example.com"]
    assert tries == {"grey@example.com": 2, "gone@example.com": 1, "fine@example.com": 1}
    assert states(made["id"])["grey"] == "sent"
    assert Delivery.objects.get(person__external_id="grey").attempts == 2


def test_a_4xx_that_never_ends_fails_after_the_bounded_retries(
    api: Any, smtp: Any, email_settings: Any
) -> None:
    add_user(api, "full", email="full@example.com")
    smtp.reply = lambda _to, _raw: "452 4.2.2 Mailbox full"
    made = go_live(api)
    clock = Clock()
    worker = sending.Worker(now=clock)
    for _ in range(len(sending.RETRY_DELAYS) + 3):
        drain(worker)
        clock.advance(max(sending.RETRY_DELAYS) + 1)
    row = Delivery.objects.get(message_id=made["id"])
    assert row.state == "failed" and row.attempts == len(sending.RETRY_DELAYS) + 1
    assert row.reason.startswith(f"gave up after {row.attempts} tries: message: 452")
    assert smtp.received == []


def test_a_server_that_is_down_delays_the_send_without_burning_tries(
    api: Any, smtp: Any, email_settings: Any
) -> None:
    for i in range(3):
        add_user(api, f"u{i}", email=f"u{i}@example.com")
    made = go_live(api)
    from tests.messaging.smtp_sink import free_port

    real_port = email_settings.EMAIL_PORT
    email_settings.EMAIL_PORT = free_port()  # nobody listens there: connection refused
    clock = Clock()
    worker = sending.Worker(now=clock)
    drain(worker)
    rows = list(Delivery.objects.filter(message_id=made["id"]).order_by("id"))
    assert [r.state for r in rows] == ["pending"] * 3
    assert rows[0].reason.startswith("will try again: cannot connect to the mail server")
    assert [r.attempts for r in rows] == [1, 0, 0]  # the others were not tried
    email_settings.EMAIL_PORT = real_port
    worker.close()
    clock.advance(sending.RETRY_DELAYS[0] + 1)
    drain(worker)
    assert sorted(smtp.recipients()) == ["u0@example.com", "u1@example.com", "u2@example.com"]


def test_a_server_that_drops_the_line_after_the_body_is_never_asked_again(
    api: Any, smtp: Any, email_settings: Any
) -> None:
    add_user(api, "u0", email="u0@example.com")
    smtp.drop_after_data = True
    made = go_live(api)
    clock = Clock()
    worker = sending.Worker(now=clock)
    drain(worker)
    smtp.drop_after_data = False
    clock.advance(max(sending.RETRY_DELAYS) * 10)
    drain(worker)
    row = Delivery.objects.get(message_id=made["id"])
    assert row.state == "failed" and row.reason.startswith("unknown outcome")
    assert smtp.received == []


def test_a_server_that_hangs_after_the_body_is_given_up_on_and_never_asked_again(
    api: Any, smtp: Any, email_settings: Any
) -> None:
    add_user(api, "u0", email="u0@example.com")
    email_settings.EMAIL_TIMEOUT = 1
    smtp.hang_after_data = 3  # it got the body, then says nothing past the timeout
    made = go_live(api)
    clock = Clock()
    worker = sending.Worker(now=clock)
    started = time.monotonic()
    drain(worker)
    assert time.monotonic() - started < 10
    smtp.hang_after_data = 0
    clock.advance(max(sending.RETRY_DELAYS) * 10)
    drain(worker)
    row = Delivery.objects.get(message_id=made["id"])
    assert row.state == "failed"
    assert row.reason == "unknown outcome: no answer in time"
    # Not asked again (aiosmtpd drops the copy whose client went away).
    assert smtp.recipients() == []


def test_rows_a_dead_worker_left_sending_are_failed_and_never_sent(
    api: Any, smtp: Any, email_settings: Any
) -> None:
    for i in range(3):
        add_user(api, f"u{i}", email=f"u{i}@example.com")
    made = go_live(api)
    # A worker claimed a batch, then died (kill -9) before recording anything.
    claimed = sending.claim(Message.objects.get(pk=made["id"]), timezone.now(), limit=2)
    assert len(claimed) == 2
    clock = Clock()
    worker = sending.Worker(now=clock)
    drain(worker)  # its lease is still running: those rows are left alone
    assert len(smtp.received) == 1
    clock.advance(sending.LEASE.total_seconds() + 1)
    worker.last_recovery = 0
    drain(worker)
    got = states(made["id"])
    assert sorted(got.values()) == ["failed: " + sending.UNKNOWN] * 2 + ["sent"]
    assert len(smtp.received) == 1


def test_ongoing_sends_to_users_who_come_to_match_once_and_once_only(
    api: Any, plan: None, smtp: Any, email_settings: Any
) -> None:
    add_user(api, "early", email="early@example.com", plan="pro")
    add_user(api, "late", email="late@example.com", plan="free")
    once = go_live(api, audience=PRO, subject="Once")
    ongoing = go_live(api, audience=PRO, subject="Ongoing", delivery="ongoing")
    clock = Clock()
    worker = sending.Worker(now=clock)
    drain(worker)
    assert sorted(smtp.recipients()) == ["early@example.com"] * 2
    add_user(api, "late", plan="pro")  # enters the audience while both are live
    add_user(api, "early", plan="free")  # leaves it, then comes back
    clock.advance(outbox.ONGOING_EVERY.total_seconds() + 1)
    drain(worker)
    add_user(api, "early", plan="pro")
    clock.advance(outbox.ONGOING_EVERY.total_seconds() + 1)
    drain(worker)
    by_subject: dict[str, list[str]] = {}
    for m in smtp.received:
        by_subject.setdefault(m.message["Subject"], []).extend(m.rcpt_tos)
    assert sorted(by_subject["Ongoing"]) == ["early@example.com", "late@example.com"]
    assert by_subject["Once"] == ["early@example.com"]
    assert api.get(f"/messages/{ongoing['id']}/stats").json()["sent"] == 2
    assert api.get(f"/messages/{once['id']}/stats").json()["sent"] == 1


def test_ongoing_is_checked_within_a_minute_not_every_tick(
    api: Any, smtp: Any, email_settings: Any
) -> None:
    go_live(api, delivery="ongoing")
    clock = Clock()
    worker = sending.Worker(now=clock)
    drain(worker)
    add_user(api, "new", email="new@example.com")
    clock.advance(outbox.ONGOING_EVERY.total_seconds() - 5)
    drain(worker)
    assert smtp.received == []
    clock.advance(6)
    drain(worker)
    assert smtp.recipients() == ["new@example.com"]


def test_a_paused_message_waits_and_goes_on_when_live_again(
    api: Any, smtp: Any, email_settings: Any
) -> None:
    add_user(api, "u0", email="u0@example.com")
    made = go_live(api)
    assert api.patch(f"/messages/{made['id']}", {"status": "paused"}).status_code == 200
    drain(sending.Worker())
    assert smtp.received == []
    # "once" is the audience when it first went live: a newcomer is not added.
    add_user(api, "u1", email="u1@example.com")
    assert api.patch(f"/messages/{made['id']}", {"status": "live"}).status_code == 200
    drain(sending.Worker())
    assert smtp.recipients() == ["u0@example.com"]


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("SITE_URL", "", "PAVIOR_BASE_URL"),
        ("PAVIOR_SMTP_URL", "", "PAVIOR_SMTP_URL"),
        ("PAVIOR_EMAIL_FROM", "", "PAVIOR_EMAIL_FROM"),
    ],
)
def test_going_live_without_email_set_up_is_a_422_naming_the_setting(
    api: Any, email_settings: Any, setting: str, value: str, named: str
) -> None:
    setattr(email_settings, setting, value)
    r = api.post("/messages", {"channel": "email", "subject": "S", "body": "B", "status": "live"})
    assert r.status_code == 422
    err = error_of(r)
    assert err["code"] == "email_not_configured" and named in err["message"]
    assert not Message.objects.exists()


def test_the_rate_limit_spaces_the_emails(api: Any, smtp: Any, email_settings: Any) -> None:
    for i in range(12):
        add_user(api, f"u{i}", email=f"u{i}@example.com")
    go_live(api)
    worker = sending.Worker(rate=20)
    started = time.monotonic()
    drain(worker)
    took = time.monotonic() - started
    assert len(smtp.received) == 12
    assert took >= 11 / 20 * 0.9, took


def test_send_test_sends_one_marked_copy_and_records_nothing(
    api: Any, smtp: Any, email_settings: Any
) -> None:
    add_user(api, "u0", email="u0@example.com")
    r = api.post("/messages", {"channel": "email", "subject": "Draft", "body": "Hi"})
    message = Message.objects.get(pk=r.json()["id"])
    outcome = sending.send_test(message, "me@acme.example")
    assert outcome.kind == "sent"
    assert smtp.recipients() == ["me@acme.example"]
    got = smtp.received[0].message
    assert got["Subject"] == "[Test] Draft"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not Delivery.objects.exists()


def test_send_test_refuses_a_bad_address(email_settings: Any, api: Any, smtp: Any) -> None:
    from pavior.core.errors import InvalidValue

    r = api.post("/messages", {"channel": "email", "subject": "Draft", "body": "Hi"})
    message = Message.objects.get(pk=r.json()["id"])
    for bad in ("", "not an address", "a@b.c\r\nBcc: x@y.z"):
        with pytest.raises(InvalidValue):
            sending.send_test(message, bad)
    assert smtp.received == []


def test_a_reply_address_adds_the_mailto_form(api: Any, smtp: Any, email_settings: Any) -> None:
    email_settings.PAVIOR_EMAIL_REPLY_TO = "Support <support@acme.example>"
    add_user(api, "u0", email="u0@example.com")
    go_live(api)
    drain(sending.Worker())
    got = smtp.received[0].message
    mailto, https = (p.strip() for p in got["List-Unsubscribe"].split(","))  # may be folded
    assert mailto.startswith("<mailto:support@acme.example?subject=unsubscribe%20")
    assert https.startswith("<https://pavior.acme.example/email/unsubscribe/")
    assert got["Reply-To"] == "Support <support@acme.example>"


@pytest.mark.parametrize(
    ("body", "to"),
    [
        ("Hello **there**, [docs](https://acme.example/docs)", "plain@example.com"),
        ("A very long line " * 80, "plain@example.com"),  # quoted-printable: built in full
        ("Hello", "Zoë@exämple.com"),  # an address that needs encoding: built in full
    ],
)
def test_each_copy_is_the_email_django_would_write_for_that_user(
    api: Any, email_settings: Any, body: str, to: str
) -> None:
    from pavior.messaging import mail

    email_settings.PAVIOR_EMAIL_REPLY_TO = "Support <support@acme.example>"
    r = api.post("/messages", {"channel": "email", "subject": "Sujet é", "body": body})
    prepared = mail.prepare(Message.objects.get(pk=r.json()["id"]))
    out = mail.Batch(prepared).copy(7, 42, to)
    # The common case takes the template's bytes; the others are built by Django.
    assert (out.raw is not None) == (to.isascii() and len(body) < 900)
    raw = out.raw or out.build().message().as_bytes(linesep="\r\n")
    import email as stdlib_email
    import email.policy

    got = stdlib_email.message_from_bytes(raw, policy=email.policy.default)
    full = stdlib_email.message_from_bytes(
        out.build().message().as_bytes(linesep="\r\n"), policy=email.policy.default
    )
    for header in (
        "Subject",
        "From",
        "To",
        "Reply-To",
        "List-Unsubscribe",
        "List-Id",
        "Message-ID",
    ):
        assert str(got[header]).strip() == str(full[header]).strip(), header
    assert "%20" in got["List-Unsubscribe"] and "/email/unsubscribe/" in got["List-Unsubscribe"]
    for part in ("plain", "html"):
        assert got.get_body((part,)).get_content() == full.get_body((part,)).get_content()
    claims = read_token(str(got["List-Unsubscribe"]).rsplit("/", 1)[1].rstrip(">").strip())
    assert (claims.person_id, claims.message_id) == (42, prepared.message_id)


def test_two_workers_at_once_never_send_one_user_two_copies(
    api: Any, smtp: Any, email_settings: Any, workspace: Any
) -> None:
    import threading

    from django.db import connection

    Person.objects.bulk_create(
        [
            Person(workspace=workspace, external_id=f"u{i}", email=f"u{i}@x.example")
            for i in range(300)
        ]
    )
    made = go_live(api)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            drain(sending.Worker(), rounds=500)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(smtp.recipients()) == sorted(f"u{i}@x.example" for i in range(300))
    assert api.get(f"/messages/{made['id']}/stats").json()["sent"] == 300


def test_before_going_live_the_outlook_counts_who_would_be_skipped(
    api: Any, plan: None, smtp: Any, email_settings: Any, workspace: Any
) -> None:
    add_user(api, "ok", email="ok@example.com", plan="pro")
    add_user(api, "noaddr", plan="pro")
    add_user(api, "unsub", email="unsub@example.com", email_subscription=False, plan="pro")
    add_user(api, "bounced", email="bounced@example.com", plan="pro")
    add_user(api, "other", email="other@example.com", plan="free")
    Suppression.objects.create(workspace=workspace, email="bounced@example.com", reason="bounce")
    assert outbox.audience_outlook(workspace, PRO) == {
        "matched": 4,
        "no_email": 1,
        "unsubscribed": 1,
        "suppressed": 1,
        "will_send": 1,
    }
    made = go_live(api, audience=PRO)
    drain(sending.Worker())
    assert outbox.skipped_reasons(Message.objects.get(pk=made["id"])) == {
        "skipped: no email address": 1,
        "skipped: unsubscribed": 1,
        "skipped: suppressed (bounce or complaint)": 1,
    }
    assert outbox.person_may_get_email(Person.objects.get(external_id="bounced")) == (
        outbox.SUPPRESSED
    )
    assert outbox.person_may_get_email(Person.objects.get(external_id="ok")) == ""


def test_the_smtp_url_s_login_is_used(api: Any, email_settings: Any) -> None:
    """PAVIOR_SMTP_URL's user and password (percent-encoded) reach the server's AUTH."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from pavior.core.email_config import parse_smtp_url
    from tests.messaging.smtp_sink import SmtpSink, free_port

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        logins.append((auth.login, auth.password))
        return AuthResult(success=(auth.login, auth.password) == (b"me@acme.example", b"p:ss"))

    sink = SmtpSink(host="127.0.0.1", port=free_port())
    controller = Controller(
        sink,
        hostname=sink.host,
        port=sink.port,
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        for password, delivered in (("wrong", False), ("p%3Ass", True)):
            config = parse_smtp_url(f"smtp://me%40acme.example:{password}@127.0.0.1:{sink.port}")
            email_settings.EMAIL_PORT = config.port
            email_settings.EMAIL_HOST_USER = config.username
            email_settings.EMAIL_HOST_PASSWORD = config.password
            r = api.post("/messages", {"channel": "email", "subject": "S", "body": "B"})
            outcome = sending.send_test(Message.objects.get(pk=r.json()["id"]), "me@acme.example")
            assert (outcome.kind == "sent") == delivered, outcome
        assert logins[-1] == (b"me@acme.example", b"p:ss")
        assert sink.recipients() == ["me@acme.example"]
    finally:
        controller.stop()
