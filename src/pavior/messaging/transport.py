"""The email boundary: hand one email to the mail server and say what became of it.

Sending goes through Django's email framework. With SMTP (`PAVIOR_SMTP_URL`,
Django's SMTP backend) the connection the backend opened (TLS, login) is kept
open across many emails, and the conversation of each email is spoken here
step by step, so a failure is known to be *before* the server accepted the
message body (MAIL, RCPT, the DATA command: nothing was delivered, safe to try
again) or *after* it (the body was sent and no answer came: the outcome is
unknown and the email is never sent again). Any other backend (an email
service through django-anymail, the console) gets each email through its
`send_messages`. `FakeTransport` is the twin the unit tests use; the
integration tests speak to a real aiosmtpd server.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as DjangoSmtpBackend
from django.core.mail.message import sanitize_address

from pavior.messaging.mail import Outgoing

Kind = Literal["sent", "transient", "permanent", "unknown"]
UNKNOWN_OUTCOME = "unknown outcome"


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    reason: str = ""
    server_down: bool = False  # about the server, not this email: the rest may wait


SENT = Outcome("sent")


class Transport(Protocol):
    def send(self, email: Outgoing) -> Outcome: ...

    def close(self) -> None: ...


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"[:280]


def _refused(code: int, text: bytes | str, stage: str) -> Outcome:
    """A reply refusing the email: 4xx try again later, 5xx never."""
    kind: Kind = "transient" if 400 <= code < 500 else "permanent"
    # 421: the server is closing the connection (busy, shutting down).
    return Outcome(kind, f"{stage}: {_reply(code, text)}", server_down=code == 421)


_LEADING_DOT = re.compile(rb"(?m)^\.")


class SmtpTransport:
    """Django's SMTP backend, one connection for many emails, each spoken step by step."""

    def __init__(self, backend: DjangoSmtpBackend | None = None) -> None:
        self.backend = backend or DjangoSmtpBackend()
        self.fresh = False  # whether the open connection has sent nothing yet

    def _connection(self) -> smtplib.SMTP:
        if self.backend.connection is None:
            self.backend.open()
            self.fresh = True
        assert self.backend.connection is not None
        return self.backend.connection

    def _drop(self) -> None:
        """Forget a connection that failed (closing it must not raise)."""
        conn, self.backend.connection = self.backend.connection, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def send(self, email: Outgoing) -> Outcome:
        try:
            if email.raw is not None:
                sender, recipients, body = email.sender, [email.to], email.raw
            else:
                built = email.build()
                encoding = built.encoding or settings.DEFAULT_CHARSET
                sender = sanitize_address(built.from_email, encoding)
                recipients = [sanitize_address(a, encoding) for a in built.recipients()]
                body = built.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
        except (ValueError, UnicodeError) as exc:  # e.g. an address Django cannot write
            return Outcome("permanent", f"cannot write this email: {exc}"[:280])
        # None: a kept connection the server had closed while idle; reconnect once.
        outcome = self._send_once(sender, recipients, body)
        if outcome is None:
            outcome = self._send_once(sender, recipients, body)
        return outcome or Outcome(
            "transient", "the mail server closed the connection", server_down=True
        )

    def _send_once(self, sender: str, recipients: list[str], body: bytes) -> Outcome | None:
        try:
            conn = self._connection()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            return Outcome(
                "transient",
                f"cannot connect to the mail server: {_describe(exc)}",
                server_down=True,
            )
        was_fresh, self.fresh = self.fresh, False
        committed = False
        try:
            conn.ehlo_or_helo_if_needed()
            code, text = conn.mail(sender)
            if code != 250:
                return self._refusal(conn, code, text, "MAIL FROM")
            for rcpt in recipients:
                code, text = conn.rcpt(rcpt)
                if code not in (250, 251):
                    return self._refusal(conn, code, text, "RCPT TO")
            conn.putcmd("data")
            code, text = conn.getreply()
            if code != 354:
                return self._refusal(conn, code, text, "DATA")
            committed = True  # from here on the server may deliver whatever happens
            data = _LEADING_DOT.sub(b"..", body)
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            conn.send(data + b".\r\n")
            code, text = conn.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            if committed:
                return Outcome("unknown", f"{UNKNOWN_OUTCOME}: {_describe(exc)}")
            if not was_fresh:
                return None  # an idle connection the server dropped: try a new one
            return Outcome(
                "transient", f"mail server connection lost: {_describe(exc)}", server_down=True
            )
        if 200 <= code < 300:
            return SENT
        if code == 421:
            self._drop()
        return _refused(code, text, "message")

    def _refusal(self, conn: smtplib.SMTP, code: int, text: bytes, stage: str) -> Outcome:
        if code == 421:  # the server is closing the connection
            self._drop()
        else:
            try:
                conn.rset()
            except (OSError, smtplib.SMTPException):
                self._drop()
        return _refused(code, text, stage)

    def close(self) -> None:
        try:
            self.backend.close()
        except (OSError, smtplib.SMTPException):
            self._drop()


def _describe(exc: BaseException) -> str:
    # smtplib reports a read timeout as "Connection unexpectedly closed: timed out".
    if isinstance(exc, socket.timeout | TimeoutError) or str(exc).endswith("timed out"):
        return "no answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused ({_reply(exc.smtp_code, exc.smtp_error)})"
    return (str(exc) or type(exc).__name__)[:200]


class BackendTransport:
    """Any other Django email backend (an email service through django-anymail)."""

    def __init__(self, backend: Any = None) -> None:
        self.backend = backend or get_connection(fail_silently=False)
        self.opened = False

    def send(self, email: Outgoing) -> Outcome:
        try:
            if not self.opened:
                self.backend.open()
                self.opened = True
            sent = self.backend.send_messages([email.build()])
        except Exception as exc:  # the service's error, classified below
            return _service_outcome(exc)
        return SENT if sent else Outcome("permanent", "the email service refused it")

    def close(self) -> None:
        if self.opened:
            self.opened = False
            try:
                self.backend.close()
            except Exception:  # noqa: S110 - closing a finished session
                pass


def _service_outcome(exc: Exception) -> Outcome:
    """An email service's refusal: a rejected recipient is permanent, throttling is
    transient, anything else may or may not have been sent (never retried)."""
    name = type(exc).__name__
    try:
        said = str(exc)
    except Exception:  # an error object that cannot describe itself
        said = " ".join(map(str, exc.args))
    text = " ".join(f"{name}: {said}".split())[:280]
    if name == "AnymailRecipientsRefused":
        return Outcome("permanent", text)
    status = getattr(exc, "status_code", None)
    if status in (429, 502, 503, 504):
        return Outcome("transient", text)
    if isinstance(status, int) and 400 <= status < 500:
        return Outcome("permanent", text)
    if isinstance(exc, ConnectionRefusedError):
        return Outcome("transient", text)
    return Outcome("unknown", f"{UNKNOWN_OUTCOME}: {text}")


def open_transport() -> Transport:
    """The configured transport: SMTP step by step, or the configured backend."""
    backend = get_connection(fail_silently=False)
    if isinstance(backend, DjangoSmtpBackend):
        return SmtpTransport(backend)
    return BackendTransport(backend)


class FakeTransport:
    """The unit tests' twin: keeps what it is given; `answer` decides each outcome."""

    def __init__(self, answer: Callable[[Outgoing], Outcome] | None = None) -> None:
        self.sent: list[Outgoing] = []
        self.answer = answer or (lambda _email: SENT)
        self.closed = 0

    def send(self, email: Outgoing) -> Outcome:
        outcome = self.answer(email)
        if outcome.kind == "sent":
            self.sent.append(email)
        return outcome

    def close(self) -> None:
        self.closed += 1
