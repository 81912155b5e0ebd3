from tests.conftest import error_of


def test_put_creates_then_updates(api):
    r = api.put("/users/u1", {"email": "ann@example.com", "name": "Ann Lee"})
    assert r.status_code == 201, r.content
    user = r.json()
    assert user["id"] == "u1"
    assert user["first_name"] == "Ann" and user["last_name"] == "Lee"
    assert user["email_subscription"] is True
    assert user["first_known_at"].endswith("Z")
    assert "current_page_url" not in user  # live attributes are never stored

    r = api.put("/users/u1", {"phone": "+33 1 23"})
    assert r.status_code == 200
    assert r.json()["phone"] == "+33 1 23"
    assert r.json()["name"] == "Ann Lee"


def test_id_defaults_to_email_and_is_upgraded_later(api):
    r = api.post("/users", {"email": "bo@example.com"})
    assert r.status_code == 201
    assert r.json()["id"] == "bo@example.com"

    r = api.post("/users", {"id": "42", "email": "bo@example.com", "phone": "1"})
    assert r.status_code == 200, r.content  # upgraded, not duplicated
    assert r.json()["id"] == "42"
    count = api.post("/users/count", {}).json()["count"]
    assert count == 1
    assert api.get("/users/bo@example.com").status_code == 404
    assert api.get("/users/42").json()["phone"] == "1"


def test_first_and_last_name_derive_name_without_overwriting(api):
    r = api.post("/users", {"id": "a", "first_name": "Jean", "last_name": "Dupont"})
    assert r.json()["name"] == "Jean Dupont"
    r = api.post("/users", {"id": "b", "name": "Mary Ann Smith", "first_name": "Mary Ann"})
    assert r.json()["first_name"] == "Mary Ann"
    assert r.json()["last_name"] == "Ann Smith"  # derived from name (the rest)


def test_null_clears_a_value(api):
    api.post("/attributes", {"name": "plan", "type": "string"})
    api.put("/users/u", {"plan": "pro", "phone": "1"})
    r = api.put("/users/u", {"plan": None, "phone": None})
    assert r.json()["plan"] is None and r.json()["phone"] is None


def test_read_only_attribute_is_refused_by_name(api):
    for name in ("total_visits", "last_seen_at", "time_on_current_page"):
        r = api.put("/users/u", {name: 3})
        assert r.status_code == 422, name
        err = error_of(r)
        assert err["field"] == name and name in err["message"]
    assert api.get("/users/u").status_code == 404  # nothing written


def test_secret_api_may_seed_signed_up_and_first_known(api):
    r = api.put("/users/u", {"signed_up_at": "2024-05-01", "first_known_at": 1714564800})
    assert r.status_code == 201
    assert r.json()["signed_up_at"] == "2024-05-01T00:00:00Z"
    assert r.json()["first_known_at"] == "2024-05-01T12:00:00Z"


def test_unknown_attribute_is_refused_so_typos_never_become_attributes(api):
    r = api.put("/users/u", {"plna": "pro"})
    assert r.status_code == 422
    assert error_of(r)["field"] == "plna"
    names = [a["name"] for a in api.get("/attributes").json()]
    assert "plna" not in names and len(names) == 19  # the built-ins only
    assert api.get("/users/u").status_code == 404  # and no user either


def test_wrong_typed_value_names_attribute_type_and_value(api):
    api.post("/attributes", {"name": "seats", "type": "number"})
    r = api.put("/users/u", {"seats": "abc"})
    assert r.status_code == 422
    err = error_of(r)
    assert err["field"] == "seats"
    assert "number" in err["message"] and "abc" in err["message"]
    r = api.put("/users/u", {"seats": "12"})  # lossless coercion
    assert r.json()["seats"] == 12


def test_path_and_body_id_must_agree(api):
    r = api.put("/users/a", {"id": "b"})
    assert r.status_code == 422 and error_of(r)["field"] == "id"


def test_erase_user(api):
    api.put("/users/u", {"email": "x@example.com"})
    assert api.delete("/users/u").status_code == 204
    assert api.get("/users/u").status_code == 404
    assert api.delete("/users/u").status_code == 404


def test_unsubscribed_user_cannot_be_resubscribed_by_the_api(api):
    api.put("/users/u", {"email_subscription": False})
    r = api.put("/users/u", {"email_subscription": True})
    assert r.status_code == 422
    assert error_of(r)["code"] == "unsubscribed"
    assert api.get("/users/u").json()["email_subscription"] is False
