"""Search terms and user ids are checked as text before any query: a search
over 1,000 characters, a NUL or a lone surrogate is a clear 422, never a 500
(SQLite: "LIKE pattern too complex"; PostgreSQL: NUL in a string)."""

from __future__ import annotations

import pytest

from tests.conftest import error_of


@pytest.fixture
def users(api):
    assert api.put("/users/u1", {"email": "ann@example.com", "name": "Ann"}).status_code == 201
    assert api.put("/users/" + "x" * 1000, {"name": "Long id"}).status_code == 201


def raw_post(api, path, text):
    """A body as raw JSON text, so "\\ud800" reaches the server as JSON escapes."""
    return api.post(path, text.encode())


@pytest.mark.parametrize("path", ["/users/search", "/users/count"])
@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"search": "%s"}' % ("a" * 100_000), "at most 1,000 characters"),
        ('{"search": "  ' + "b" * 1001 + '  "}', "at most 1,000 characters"),
    ],
)
def test_bad_search_text_is_a_422_naming_search(api, users, path, body, says):
    r = raw_post(api, path, body)
    assert r.status_code == 422, r.content
    err = error_of(r)
    assert err["field"] == "search"
    assert says in err["message"]


@pytest.mark.parametrize("path", ["/users/search", "/users/count", "/users/u1/activity"])
@pytest.mark.parametrize(
    ("text", "says"),
    [("a\\u0000b", "NUL"), ("\\ud800", "surrogate"), ("ok\\udfffok", "surrogate")],
)
def test_text_no_database_can_store_is_refused_when_the_body_is_read(api, users, path, text, says):
    """The one JSON reader (core/json_input) refuses it for every field alike."""
    field = "type" if path.endswith("activity") else "search"
    r = raw_post(api, path, '{"' + field + '": "' + text + '"}')
    assert r.status_code == 400, r.content
    err = error_of(r)
    assert err["code"] == "invalid_json" and says in err["message"]


def test_the_longest_storable_id_can_still_be_searched(api, users):
    r = api.post("/users/search", {"search": "x" * 1000})
    assert [u["id"] for u in r.json()["users"]] == ["x" * 1000]
    assert api.post("/users/count", {"search": " ANN "}).json() == {"count": 1}


@pytest.mark.parametrize("method", ["get", "delete"])
@pytest.mark.parametrize("path", ["/users/%00", "/users/a%00b"])
def test_a_nul_in_a_user_id_is_a_422(api, users, method, path):
    r = getattr(api, method)(path)
    assert r.status_code == 422, r.content
    err = error_of(r)
    assert err["field"] == "id" and "NUL" in err["message"]


def test_a_nul_in_a_written_or_activity_id_is_a_422(api, users):
    r = api.put("/users/a%00b", {"name": "x"})
    assert r.status_code == 422 and error_of(r)["field"] == "id"
    r = api.post("/users/a%00b/activity", {"type": "call"})
    assert r.status_code == 422 and error_of(r)["field"] == "id"


def test_an_id_no_user_can_have_is_a_422_and_others_a_404(api, users):
    r = api.get("/users/" + "y" * 1001)
    assert r.status_code == 422 and "at most 1,000" in error_of(r)["message"]
    assert api.get("/users/nobody").status_code == 404
    assert api.get("/users/u1").json()["name"] == "Ann"


def test_the_users_page_shows_a_bad_search_as_an_error(client, workspace, users):
    from pavior.workspaces.actions import create_admin

    user = create_admin("owner@example.com", "correct horse battery staple", workspaces=[workspace])
    client.force_login(user)
    for q in ("a\x00b", "z" * 5000):
        r = client.get("/", {"q": q})
        assert r.status_code == 400  # the page, with the reason beside the search box
        assert b'role="alert"' in r.content
        r = client.get("/users/export.csv", {"q": q})
        assert r.status_code == 400
    assert b"Ann" in client.get("/", {"q": "ann"}).content


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_nul_in_an_attribute_name_is_a_404(api, users, method):
    call = getattr(api, method)
    r = (
        call("/attributes/a%00b", {"archived": True})
        if method == "patch"
        else call("/attributes/%00")
    )
    assert r.status_code == 404, r.content
    assert error_of(r)["field"] == "name"
