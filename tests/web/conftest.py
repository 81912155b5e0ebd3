"""Fixtures for the admin pages: a team member, a workspace, a signed-in browser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pavior.core.attributes import Trust

PASSWORD = "correct horse battery staple"


@dataclass
class Team:
    workspace: Any
    email: str
    password: str


@pytest.fixture
def team(transactional_db: Any) -> Team:
    from pavior.workspaces.actions import create_admin, create_workspace

    ws = create_workspace("Acme").workspace
    create_admin("Owner@Example.com", PASSWORD, workspaces=[ws])
    return Team(workspace=ws, email="owner@example.com", password=PASSWORD)


def sign_in(page: Any, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture
def signed_in(page: Any, served: Any, team: Team) -> Any:
    sign_in(page, served.url, team.email, team.password)
    page.base = served.url
    return page


def add_users(workspace: Any, rows: list[dict[str, Any]]) -> None:
    from pavior.people.actions import upsert_user

    for values in rows:
        upsert_user(workspace, values, trust=Trust.SECRET)


def assert_clean(page: Any) -> None:
    """No script ran (no dialog) and the CSP blocked nothing on the page."""
    assert page.probe.dialogs == []
    csp = [m for m in page.probe.console_errors if "Content Security Policy" in m]
    assert csp == []
