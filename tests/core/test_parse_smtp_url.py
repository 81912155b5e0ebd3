"""PAVIOR_SMTP_URL, PAVIOR_EMAIL_FROM and PAVIOR_EMAIL_RATE as SPEC §10 writes them."""

from __future__ import annotations

import pytest

from pavior.core.email_config import (
    EmailConfigError,
    SmtpConfig,
    parse_address,
    parse_rate,
    parse_smtp_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://user:pass@mail.example:587?starttls=true",
            SmtpConfig("mail.example", 587, "user", "pass", True, False, 30.0),
        ),
        ("smtps://u:p@mail.example", SmtpConfig("mail.example", 465, "u", "p", False, True, 30.0)),
        ("smtp://localhost", SmtpConfig("localhost", 25, "", "", False, False, 30.0)),
        (
            "smtp://me%40acme.example:p%3Ass%2Fw@[::1]:2525?timeout=5&starttls=false",
            SmtpConfig("::1", 2525, "me@acme.example", "p:ss/w", False, False, 5.0),
        ),
        ("SMTP://Mail.Example:25/", SmtpConfig("mail.example", 25, "", "", False, False, 30.0)),
    ],
)
def test_good_urls(url: str, expected: SmtpConfig) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "smtp:// or smtps://"),
        ("http://mail.example", "smtp:// or smtps://"),
        ("mail.example:25", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://user:pass@:25", "no host"),
        ("smtp://mail.example:99999", "Port out of range"),
        ("smtp://mail.example:port", "Port could not be cast"),
        ("smtp://mail.example/inbox", "no path"),
        ("smtp://mail.example?starttls=maybe", "starttls must be true or false"),
        ("smtps://mail.example?starttls=true", "already TLS"),
        ("smtp://mail.example?tls=1", "unknown option 'tls'"),
        ("smtp://mail.example?timeout=0", "timeout"),
        ("smtp://mail.example?timeout=nan", "timeout"),
        ("smtp://mail.example?timeout=1e9", "timeout"),
    ],
)
def test_bad_urls_say_what_is_wrong_and_name_the_setting(url: str, says: str) -> None:
    with pytest.raises(EmailConfigError) as caught:
        parse_smtp_url(url)
    assert "PAVIOR_SMTP_URL" in str(caught.value)
    assert says in str(caught.value)


def test_the_password_never_appears_in_an_error() -> None:
    with pytest.raises(EmailConfigError) as caught:
        parse_smtp_url("smtp://user:s3cret@mail.example?tls=1")
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Acme <hello@acme.example>", "Acme <hello@acme.example>"),
        ("  hello@acme.example ", "hello@acme.example"),
        ('"Acme, Inc." <hello@acme.example>', '"Acme, Inc." <hello@acme.example>'),
    ],
)
def test_from_addresses(value: str, expected: str) -> None:
    assert parse_address(value, name="PAVIOR_EMAIL_FROM") == expected


@pytest.mark.parametrize(
    "value",
    ["", "Acme", "Acme <>", "@acme.example", "hello@", "a b@acme.example", "a@b\r\nBcc: x@y"],
)
def test_bad_from_addresses(value: str) -> None:
    with pytest.raises(EmailConfigError, match="PAVIOR_EMAIL_FROM"):
        parse_address(value, name="PAVIOR_EMAIL_FROM")


@pytest.mark.parametrize(("value", "expected"), [("100", 100.0), ("0", 0.0), ("2.5", 2.5)])
def test_rates(value: str, expected: float) -> None:
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["", "fast", "-1", "inf", "nan"])
def test_bad_rates(value: str) -> None:
    with pytest.raises(EmailConfigError, match="PAVIOR_EMAIL_RATE"):
        parse_rate(value)
