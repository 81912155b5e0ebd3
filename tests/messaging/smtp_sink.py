"""A real SMTP server (aiosmtpd on loopback) that receives what Pavior sends."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpSink:
    """What the server received, and how it answers (`reply`: None accepts)."""

    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    # Called with (rcpt_tos, raw) at the end of DATA; a string like "451 ..." refuses.
    reply: Callable[[list[str], bytes], str | None] = lambda _to, _raw: None
    # Called with the address at RCPT TO; a string refuses that recipient.
    rcpt_reply: Callable[[str], str | None] = lambda _addr: None
    drop_after_data: bool = False  # close the connection instead of answering DATA
    hang_after_data: float = 0.0  # seconds of silence before answering DATA
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}?timeout=5"

    def recipients(self) -> list[str]:
        with self.lock:
            return [r for m in self.received for r in m.rcpt_tos]

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        refusal = self.rcpt_reply(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.drop_after_data:
            server.transport.close()
            return "250 never seen"
        if self.hang_after_data:
            await asyncio.sleep(self.hang_after_data)
        refusal = self.reply(list(envelope.rcpt_tos), envelope.content)
        if refusal:
            return refusal
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
            )
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink(host="127.0.0.1", port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def email_settings(settings: Any, smtp: SmtpSink) -> Any:
    """Pavior set up to send through the test server."""
    from pavior.core.email_config import parse_smtp_url

    config = parse_smtp_url(smtp.url)
    settings.PAVIOR_SMTP_URL = smtp.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = config.host, config.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = config.timeout
    settings.PAVIOR_EMAIL_FROM = "Acme <hello@acme.example>"
    settings.PAVIOR_EMAIL_REPLY_TO = ""
    settings.PAVIOR_EMAIL_RATE = 0
    settings.SITE_URL = "https://pavior.acme.example"
    return settings
