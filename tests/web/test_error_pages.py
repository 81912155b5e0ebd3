"""Not found and server errors are Pavior pages, not Django's bare text."""

from __future__ import annotations

from typing import Any

import pytest
from django.template.loader import get_template


@pytest.mark.django_db
def test_a_profile_of_another_workspace_is_a_styled_404(client: Any, settings: Any) -> None:
    from django.contrib.auth import get_user_model

    from pavior.core.attributes import Trust
    from pavior.people.actions import upsert_user
    from pavior.workspaces.actions import create_admin, create_workspace

    settings.DEBUG = False
    mine = create_workspace("Acme").workspace
    other = create_workspace("Other").workspace
    upsert_user(other, {"id": "u1"}, trust=Trust.SECRET)
    create_admin("a@example.com", "correct horse battery", workspaces=[mine])
    client.force_login(get_user_model().objects.get(username="a@example.com"))
    pk = other.people.get().pk
    r = client.get(f"/users/{pk}/")
    html = r.content.decode()
    assert r.status_code == 404
    assert '<h1 id="nf-title">Page not found</h1>' in html
    assert 'href="/attributes/"' in html  # the navigation is there: a way on
    assert "switch to it above" in html


def test_the_500_page_renders_without_a_request() -> None:
    html = get_template("500.html").render()
    assert "Something went wrong" in html and "app.css" in html
