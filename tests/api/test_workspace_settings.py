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
    assert api.get("/workspace").json()["timezone"] == "Europe/Paris"


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
