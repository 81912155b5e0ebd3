"""A fresh install: '/' offers to create the first admin and workspace."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from pavior.workspaces.models import Workspace
from tests.conftest import screenshot
from tests.web.conftest import assert_clean


def test_first_run_creates_admin_and_workspace(
    page: Any, served: Any, transactional_db: Any
) -> None:
    page.goto(served.url + "/")
    expect(page.get_by_role("heading", name="Welcome to Pavior")).to_be_visible()
    page.get_by_label("Workspace name").fill("Acme")
    page.get_by_label("Email").fill("first@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create admin and workspace").click()
    # The password rule's message is shown beside the field; nothing is created.
    expect(page.locator("#password-error")).to_contain_text("too short")
    assert not get_user_model().objects.exists() and not Workspace.objects.exists()
    screenshot(page, "web-setup-error")
    page.get_by_label("Password").fill("a much longer passphrase")
    page.get_by_role("button", name="Create admin and workspace").click()
    expect(page.get_by_role("heading", name="Install Pavior on your website")).to_be_visible()
    ws = Workspace.objects.get()
    expect(page.locator("#snippet")).to_contain_text(ws.app_id)
    expect(page.locator("#snippet")).to_contain_text(
        "window.Pavior = window.Pavior || function () "
        "{ (window.Pavior.q = window.Pavior.q || []).push(arguments); };"
    )
    expect(page.locator("#snippet")).to_contain_text(f"{served.url}/pavior.js")
    screenshot(page, "web-install")
    # Once a team member exists, '/' no longer offers the setup form.
    page.get_by_role("button", name="Sign out").click()
    page.goto(served.url + "/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_clean(page)


def test_identity_secrets_are_shown_once(client: Any, db: Any) -> None:
    from pavior.workspaces.actions import create_admin, create_workspace

    new = create_workspace("Acme")
    client.force_login(create_admin("a@example.com", "a much longer passphrase"))
    page = client.get("/install/").content.decode()
    assert new.identity_secret not in page
    created = client.post("/install/secrets/")
    secret_row = new.workspace.identity_secrets.order_by("-created_at", "-pk").first()
    assert secret_row.secret in created.content.decode()
    assert created["Cache-Control"] == "no-store"
    again = client.get("/install/").content.decode()
    assert secret_row.secret not in again and new.identity_secret not in again
    # Switching the verification mode goes through the workspace action.
    client.post("/install/", {"identity_verification": "required"})
    new.workspace.refresh_from_db()
    assert new.workspace.identity_verification == "required"
    bad = client.post("/install/", {"identity_verification": "sometimes"})
    assert bad.status_code == 422 and "identity_verification" in bad.content.decode()


def test_changes_need_a_csrf_token(db: Any) -> None:
    from django.test import Client

    from pavior.workspaces.actions import create_admin, create_workspace

    create_workspace("Acme")
    client = Client(enforce_csrf_checks=True)
    client.force_login(create_admin("a@example.com", "a much longer passphrase"))
    assert client.post("/install/secrets/").status_code == 403
    assert client.post("/attributes/", {"name": "plan", "type": "string"}).status_code == 403
