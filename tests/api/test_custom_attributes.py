import pytest

from tests.api.conftest import browser_init
from tests.conftest import error_of


def test_create_list_archive_restore_delete(api):
    r = api.post("/attributes", {"name": "twitterHandle", "type": "string"})
    assert r.status_code == 201, r.content
    assert r.json() == {
        "name": "twitterHandle",
        "rendered_name": "Twitter Handle",
        "type": "string",
        "builtin": False,
        "live": False,
        "archived": False,
        "browser_writable": True,
    }
    names = [a["name"] for a in api.get("/attributes").json()]
    assert names[:3] == ["id", "email", "name"] and "twitterHandle" in names
    assert len([n for n in names if n != "twitterHandle"]) == 19

    api.put("/users/u", {"twitterHandle": "@ann"})
    r = api.patch("/attributes/twitterHandle", {"archived": True})
    assert r.json()["archived"] is True
    assert "twitterHandle" not in api.get("/users/u").json()  # hidden, value kept
    api.patch("/attributes/twitterHandle", {"archived": False})
    assert api.get("/users/u").json()["twitterHandle"] == "@ann"  # restored with its value

    assert api.delete("/attributes/twitterHandle").status_code == 204
    assert api.post("/attributes", {"name": "twitterHandle", "type": "number"}).status_code == 201
    assert api.get("/users/u").json()["twitterHandle"] is None  # values went with it


def test_built_in_list_marks_live_and_read_only(api):
    attrs = {a["name"]: a for a in api.get("/attributes").json()}
    assert attrs["current_page_url"]["live"] is True
    assert attrs["last_seen_at"]["rendered_name"] == "Last seen"
    assert attrs["last_seen_at"]["browser_writable"] is False
    assert attrs["email"]["browser_writable"] is True


def test_lock_attribute_against_browser_writes(api):
    api.post("/attributes", {"name": "plan", "type": "string"})
    assert (
        api.patch("/attributes/plan", {"browser_writable": False}).json()["browser_writable"]
        is False
    )
    assert (
        api.patch("/attributes/email", {"browser_writable": False}).json()["browser_writable"]
        is False
    )
    r = api.patch("/attributes/email", {"archived": True})
    assert r.status_code == 422


@pytest.mark.django_db(transaction=True)
def test_a_locked_attribute_is_refused_to_a_browser_write(api, served, workspace):
    api.post("/attributes", {"name": "plan", "type": "string"})
    api.post("/attributes", {"name": "seats", "type": "number"})
    api.put("/users/u1", {"plan": "pro", "seats": 1})
    api.patch("/attributes/plan", {"browser_writable": False})

    body = browser_init(served, workspace.app_id, "u1", {"plan": "free", "seats": 5})
    (err,) = body["errors"]
    assert err["field"] == "plan" and "browser" in err["message"]
    user = api.get("/users/u1").json()
    assert (user["plan"], user["seats"]) == ("pro", 5)  # the lock, not the batch, refused

    # Unlocked, the very same write goes through: the lock was what refused it.
    api.patch("/attributes/plan", {"browser_writable": True})
    assert browser_init(served, workspace.app_id, "u1", {"plan": "free"})["errors"] == []
    assert api.get("/users/u1").json()["plan"] == "free"


@pytest.mark.parametrize(
    "name",
    ["my-attr", "my attr", "café", "2fast", "x" * 65, "email", "", "last_seen_at"],
)
def test_bad_names_are_refused_and_nothing_is_written(api, name):
    r = api.post("/attributes", {"name": name, "type": "string"})
    assert r.status_code == 422, (name, r.content)
    assert error_of(r)["field"] == "name"
    assert len(api.get("/attributes").json()) == 19


def test_render_collision_is_refused(api):
    api.post("/attributes", {"name": "twitterHandle", "type": "string"})
    r = api.post("/attributes", {"name": "twitter_handle", "type": "string"})
    assert r.status_code == 422
    assert "twitterHandle" in error_of(r)["message"]


def test_date_suffix_names_must_be_dates(api):
    r = api.post("/attributes", {"name": "renewedOn", "type": "string"})
    assert r.status_code == 422 and error_of(r)["field"] == "type"
    assert api.post("/attributes", {"name": "renewedOn", "type": "date"}).status_code == 201


def test_unknown_type_is_refused(api):
    r = api.post("/attributes", {"name": "plan", "type": "text"})
    assert r.status_code == 422 and error_of(r)["field"] == "type"


def test_duplicate_name_is_a_conflict(api):
    api.post("/attributes", {"name": "plan", "type": "string"})
    r = api.post("/attributes", {"name": "plan", "type": "string"})
    assert r.status_code == 409


def test_the_251st_attribute_is_refused_and_archiving_frees_a_slot(api, settings):
    settings.PAVIOR_MAX_CUSTOM_ATTRIBUTES = 3
    for i in range(3):
        assert api.post("/attributes", {"name": f"a{i}", "type": "number"}).status_code == 201
    r = api.post("/attributes", {"name": "a3", "type": "number"})
    assert r.status_code == 422 and error_of(r)["code"] == "limit_exceeded"
    api.patch("/attributes/a0", {"archived": True})
    assert api.post("/attributes", {"name": "a3", "type": "number"}).status_code == 201
    r = api.patch("/attributes/a0", {"archived": False})  # restoring needs a slot too
    assert r.status_code == 422


def test_delete_unknown_or_builtin(api):
    assert api.delete("/attributes/nope").status_code == 404
    assert api.delete("/attributes/email").status_code == 422
