"""The API keys page without a browser: CSRF, no caching of the shown key, and a
member only ever touches their own workspace's keys."""

from __future__ import annotations

from tests.web.conftest import Team


def test_the_new_key_is_not_cached_and_changes_need_csrf(team: Team) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    member = get_user_model().objects.get(username=team.email)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    assert strict.post("/settings/api-keys/", {"name": "x"}).status_code == 403
    first = team.workspace.api_keys.get()
    assert strict.post(f"/settings/api-keys/{first.pk}/revoke/").status_code == 403
    assert team.workspace.api_keys.count() == 1

    client = Client()
    client.force_login(member)
    created = client.post("/settings/api-keys/", {"name": "CI"})
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"


def test_a_member_cannot_revoke_another_workspaces_key(team: Team) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from pavior.workspaces.actions import create_workspace

    other = create_workspace("Other")
    other_key = other.workspace.api_keys.get()
    client = Client()
    client.force_login(get_user_model().objects.get(username=team.email))
    client.post(f"/settings/api-keys/{other_key.pk}/revoke/")
    assert other.workspace.api_keys.filter(pk=other_key.pk).exists()
