"""Signing in lands on the workspace the team member used last, not the first
alphabetically."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

PASSWORD = "correct horse battery"


def sign_in(client: Client) -> Any:
    r = client.post("/login/", {"email": "ann@example.com", "password": PASSWORD})
    assert r.status_code == 302
    return client.get("/").context["workspace"]


@pytest.mark.django_db
def test_sign_in_lands_on_the_workspace_used_last() -> None:
    from pavior.workspaces.actions import create_admin, create_workspace

    alpha = create_workspace("Alpha").workspace
    beta = create_workspace("Beta").workspace
    create_admin("ann@example.com", PASSWORD, workspaces=[alpha, beta])
    client = Client()
    assert sign_in(client) == alpha  # nothing used yet: the first one
    client.post("/workspace/switch/", {"workspace": beta.pk, "next": "/"})
    client.post("/logout/")
    assert sign_in(client) == beta

    # A workspace they lost access to is not where they land.
    from pavior.workspaces.models import Membership

    Membership.objects.filter(workspace=beta).delete()
    client.post("/logout/")
    assert sign_in(client) == alpha
