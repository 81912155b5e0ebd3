import pytest

from tests.api.conftest import browser_init
from tests.conftest import error_of


def test_get_and_patch_settings(api):
    ws = api.get("/workspace").json()
    assert ws["identity_verification"] == "optional"
    assert ws["snippet_creates_attributes"] is True
    r = api.patch(
        "/workspace",
        {
            "identity_verification": "required",
            "timezone": "Europe/Paris",
            "snippet_creates_attributes": False,
        },
    )
    assert r.status_code == 200, r.content
    assert r.json()["identity_verification"] == "required"
    assert r.json()["snippet_creates_attributes"] is False
    again = api.get("/workspace").json()
    assert (again["timezone"], again["snippet_creates_attributes"]) == ("Europe/Paris", False)
    r = api.patch("/workspace", {"snippet_creates_attributes": "no"})
    assert r.status_code == 422 and error_of(r)["field"] == "snippet_creates_attributes"
    assert api.get("/workspace").json()["snippet_creates_attributes"] is False


@pytest.mark.django_db(transaction=True)
def test_snippet_creates_attributes_decides_what_a_browser_may_create(api, served, workspace):
    api.patch("/workspace", {"snippet_creates_attributes": False})
    (err,) = browser_init(served, workspace.app_id, "u1", {"plan": "pro"})["errors"]
    assert err["field"] == "plan" and err["code"] == "unknown_attribute"
    assert "plan" not in [a["name"] for a in api.get("/attributes").json()]

    api.patch("/workspace", {"snippet_creates_attributes": True})
    assert browser_init(served, workspace.app_id, "u1", {"plan": "pro"})["errors"] == []
    assert "plan" in [a["name"] for a in api.get("/attributes").json()]
    assert api.get("/users/u1").json()["plan"] == "pro"


def test_bad_settings(api):
    r = api.patch("/workspace", {"identity_verification": "sometimes"})
    assert r.status_code == 422 and error_of(r)["field"] == "identity_verification"
    r = api.patch("/workspace", {"timezone": "Mars/Olympus"})
    assert r.status_code == 422 and error_of(r)["field"] == "timezone"
    assert api.get("/workspace").json()["timezone"] == "UTC"


def test_identity_secrets_shown_once_and_revocable(api):
    r = api.post("/identity-secrets")
    assert r.status_code == 201
    created = r.json()
    assert len(created["secret"]) == 64
    listed = api.get("/identity-secrets").json()
    assert len(listed) == 2  # the one made with the workspace, and this one
    assert all("secret" not in s for s in listed)
    assert api.delete(f"/identity-secrets/{created['id']}").status_code == 204
    assert len(api.get("/identity-secrets").json()) == 1
    assert api.delete(f"/identity-secrets/{created['id']}").status_code == 404
