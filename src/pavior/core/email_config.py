"""Email settings from the environment (SPEC §10): PAVIOR_SMTP_URL, PAVIOR_EMAIL_FROM, ...

Pure parsing, so a mistake in a URL is one clear line at start-up rather than
a failed send an hour later. settings.py maps the result onto Django's
EMAIL_* settings.

    smtp://user:pass@host:587?starttls=true   STARTTLS after connecting
    smtps://user:pass@host                    TLS from the first byte (port 465)
    smtp://host:25?timeout=10                 seconds before a silent server is given up

User and password are percent-decoded (write `@` as `%40`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_TIMEOUT = 30.0
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class EmailConfigError(ValueError):
    """A setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str
    password: str
    use_tls: bool  # STARTTLS
    use_ssl: bool  # implicit TLS
    timeout: float


def parse_smtp_url(url: str, *, name: str = "PAVIOR_SMTP_URL") -> SmtpConfig:
    """`smtp://user:pass@host:port?starttls=true` or `smtps://...` as a SmtpConfig."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise EmailConfigError(f"{name}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise EmailConfigError(
            f"{name} must start with smtp:// or smtps:// (got {parts.scheme or 'no scheme'!r})"
        )
    if not parts.hostname:
        raise EmailConfigError(f"{name} names no host (smtp://user:pass@host:port)")
    if parts.path not in ("", "/") or parts.fragment:
        raise EmailConfigError(f"{name} takes no path (smtp://user:pass@host:port)")
    starttls = False
    timeout = DEFAULT_TIMEOUT
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "starttls":
            if value.lower() not in _TRUE + _FALSE:
                raise EmailConfigError(f"{name}: starttls must be true or false (got {value!r})")
            starttls = value.lower() in _TRUE
        elif key == "timeout":
            try:
                timeout = float(value)
            except ValueError:
                timeout = math.nan
            if not math.isfinite(timeout) or not 0 < timeout <= 3600:
                raise EmailConfigError(f"{name}: timeout must be seconds, 1 to 3600 ({value!r})")
        else:
            raise EmailConfigError(f"{name}: unknown option {key!r} (starttls, timeout)")
    if starttls and scheme == "smtps":
        raise EmailConfigError(f"{name}: smtps:// is already TLS; starttls=true is for smtp://")
    return SmtpConfig(
        host=parts.hostname,
        port=port or (465 if scheme == "smtps" else 25),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=starttls,
        use_ssl=scheme == "smtps",
        timeout=timeout,
    )


def parse_address(value: str, *, name: str) -> str:
    """`Acme <hello@acme.example>` or `hello@acme.example`, checked and normalised."""
    text = value.strip()
    if any(c in text for c in "\r\n\0"):
        raise EmailConfigError(f"{name} must be one line")
    display, address = parseaddr(text)
    local, _, domain = address.rpartition("@")
    if not local or not domain or any(c.isspace() for c in address):
        raise EmailConfigError(f"{name} must be an address like 'Acme <hello@acme.example>'")
    return formataddr((display, address)) if display else address


def address_domain(value: str) -> str:
    """The domain of an address as parse_address returns it (for Message-ID, List-Id)."""
    return parseaddr(value)[1].rpartition("@")[2].lower()


def parse_rate(value: str, *, name: str = "PAVIOR_EMAIL_RATE") -> float:
    """Emails per second; 0 means as fast as the server takes them."""
    try:
        rate = float(value)
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate < 0:
        raise EmailConfigError(f"{name} must be a number of emails per second, 0 for no limit")
    return rate
