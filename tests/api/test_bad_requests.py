from tests.conftest import error_of


def test_missing_key(client, db):
    r = client.get("/api/v1/attributes")
    assert r.status_code == 401
    assert "Authorization" in error_of(r)["message"]


def test_wrong_key(client, db):
    r = client.get("/api/v1/attributes", HTTP_AUTHORIZATION="Bearer sk_nope")
    assert r.status_code == 401


def test_app_id_is_not_an_api_key(client, new_workspace):
    token = new_workspace.workspace.app_id
    r = client.get("/api/v1/attributes", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 401
    assert "app_id" in error_of(r)["message"]


def test_key_is_scoped_to_its_workspace(client, api):
    from pavior.workspaces.actions import create_workspace

    other = create_workspace("Other")
    api.put("/users/u", {"email": "a@example.com"})
    r = client.get("/api/v1/users/u", HTTP_AUTHORIZATION=f"Bearer {other.api_key}")
    assert r.status_code == 404


def test_malformed_json(api):
    r = api.post("/users", "{not json")
    assert r.status_code in (400, 422)
    assert "JSON" in error_of(r)["message"]
    r = api.post("/attributes", "{not json")
    assert r.status_code == 400
    assert error_of(r)["code"] == "invalid_json"


def test_body_must_be_an_object(api):
    r = api.post("/users", [1, 2])
    assert r.status_code == 422


def test_body_over_one_megabyte(api):
    big = '{"id": "u", "name": "' + "x" * (1024 * 1024 + 10) + '"}'
    r = api.post("/users", big)
    assert r.status_code == 413
    assert error_of(r)["code"] == "too_large"
    assert api.get("/users/u").status_code == 404


def test_schema_errors_name_the_field(api):
    r = api.post("/users/search", {"limit": "many"})
    assert r.status_code == 422
    assert error_of(r)["field"] == "limit"
    r = api.post("/users/search", {"limit": 0})
    assert r.status_code == 422
    r = api.post("/users/search", {"bogus": 1})
    assert r.status_code == 422


def test_string_over_the_limit(api):
    r = api.put("/users/u", {"name": "x" * 1001})
    assert r.status_code == 422 and error_of(r)["field"] == "name"


def test_user_needs_an_id_or_email(api):
    r = api.post("/users", {"name": "Nobody"})
    assert r.status_code == 422 and error_of(r)["field"] == "id"


def test_openapi_document(client, db):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in ("/api/v1/attributes", "/api/v1/users/{user_id}", "/api/v1/users/search"):
        assert p in paths
