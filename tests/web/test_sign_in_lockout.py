"""Repeated failed sign-ins lock the account and the address, and a forged
X-Forwarded-For neither resets the count nor opens a locked account; only a
configured trusted proxy's header names the client. Over HTTP against the
served application (pavior.asgi under uvicorn, as `pavior serve` runs it)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.web.conftest import Team

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 3


@pytest.fixture
def lockout(settings: Any) -> Any:
    settings.AXES_FAILURE_LIMIT = LIMIT
    return settings


def attempt(base: str, email: str, password: str, forwarded: str | None = None) -> httpx.Response:
    """One sign-in as a fresh browser makes it: the form (for its CSRF token), then the POST."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with httpx.Client(base_url=base, timeout=30) as browser:
        form = browser.get("/login/", headers=headers)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token, form.text
        return browser.post(
            "/login/",
            data={"email": email, "password": password, "csrfmiddlewaretoken": token.group(1)},
            headers=headers,
        )


def signed_in(response: httpx.Response) -> bool:
    return response.status_code == 302 and response.headers["location"] == "/"


def test_rotating_x_forwarded_for_neither_resets_the_count_nor_lets_the_password_in(
    served: Any, team: Team, lockout: Any
) -> None:
    # Guesses at several accounts, each "from" another address: no proxy is trusted,
    # so all of them come from 127.0.0.1, whatever the header says, and lock it.
    statuses = [
        attempt(served.url, f"nobody{n}@example.com", "guess", f"198.51.100.{n + 1}").status_code
        for n in range(LIMIT)
    ]
    assert statuses == [400] * (LIMIT - 1) + [429]  # the last failure locks
    r = attempt(served.url, team.email, team.password, forwarded="203.0.113.9")
    assert r.status_code == 429
    assert "Too many sign-in attempts" in r.text
    assert int(r.headers["Retry-After"]) == 15 * 60
    assert not signed_in(r)


def test_a_locked_account_refuses_the_right_password_from_a_fresh_address(
    served: Any, team: Team, lockout: Any
) -> None:
    from pavior.workspaces.actions import create_admin

    create_admin("other@example.com", team.password, workspaces=[team.workspace])
    lockout.PAVIOR_TRUSTED_PROXIES = ["127.0.0.1"]  # so the addresses below are real
    statuses = [
        attempt(served.url, team.email, f"guess {n}", "198.51.100.1").status_code
        for n in range(LIMIT)
    ]
    assert statuses == [400] * (LIMIT - 1) + [429]
    r = attempt(served.url, team.email, team.password, forwarded="203.0.113.50")
    assert r.status_code == 429
    # The fresh address itself is not locked: another account signs in from it.
    assert signed_in(attempt(served.url, "other@example.com", team.password, "203.0.113.50"))


def test_a_trusted_proxy_names_the_client_and_locks_only_that_address(
    served: Any, team: Team, lockout: Any
) -> None:
    lockout.PAVIOR_TRUSTED_PROXIES = ["127.0.0.1"]
    # One address guessing at several accounts gets itself locked...
    statuses = [
        attempt(served.url, f"nobody{n}@example.com", "guess", "198.51.100.1").status_code
        for n in range(LIMIT)
    ]
    assert statuses == [400] * (LIMIT - 1) + [429]
    assert attempt(served.url, team.email, team.password, "198.51.100.1").status_code == 429
    # ...while the team member, behind the same proxy from elsewhere, signs in.
    assert signed_in(attempt(served.url, team.email, team.password, "203.0.113.7"))
