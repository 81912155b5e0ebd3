"""Dates at the ends of the calendar: refused at the door with the range, or
answered; never a 500 (filters, writes, pages), in any workspace time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pavior.people.models import Person
from tests.conftest import error_of

ZONES = ["Asia/Tokyo", "Pacific/Kiritimati", "UTC", "Etc/GMT+12"]


@pytest.fixture
def dated(api, workspace):
    assert api.post("/attributes", {"name": "renewal_at", "type": "date"}).status_code == 201
    api.put("/users/u1", {"email": "a@example.com", "renewal_at": "9999-12-30T23:59:59Z"})
    api.put("/users/u2", {"email": "b@example.com", "renewal_at": "0001-01-02T00:00:00Z"})
    Person.objects.filter(external_id="u1").update(
        last_seen_at=datetime(9999, 12, 30, 12, tzinfo=UTC)
    )
    return workspace


def set_zone(api, zone):
    assert api.patch("/workspace", {"timezone": zone}).status_code == 200


def search(api, flt):
    return api.post("/users/search", {"filter": flt, "limit": 10})


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("attribute", ["last_seen_at", "renewal_at"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_filter_on_a_day_beyond_the_range_is_a_422_naming_it(api, dated, zone, attribute, day):
    set_zone(api, zone)
    r = search(api, {"attribute": attribute, "op": "on", "value": day})
    assert r.status_code == 422, r.content
    err = error_of(r)
    assert err["field"] == "filter.value"
    assert "0001-01-02 to 9999-12-30" in err["message"]


@pytest.mark.parametrize("zone", ZONES)
def test_filters_on_the_last_and_first_days_work_in_every_zone(api, dated, zone):
    set_zone(api, zone)
    # The stored instants are at the ends of the range in UTC; which local day
    # they fall on depends on the zone, but the query always answers.
    for day in ("9999-12-30", "9999-12-29", "0001-01-02", "0001-01-03"):
        for attribute in ("last_seen_at", "renewal_at"):
            r = search(api, {"attribute": attribute, "op": "on", "value": day})
            assert r.status_code == 200, (day, attribute, r.content)
    r = search(api, {"attribute": "renewal_at", "op": "after", "value": "9999-12-30"})
    assert [u["id"] for u in r.json()["users"]] == ["u1"]
    r = search(api, {"attribute": "renewal_at", "op": "before", "value": "0001-01-03"})
    assert [u["id"] for u in r.json()["users"]] == ["u2"]


def test_on_the_last_day_finds_the_user_in_utc(api, dated):
    r = search(api, {"attribute": "renewal_at", "op": "on", "value": "9999-12-30"})
    assert [u["id"] for u in r.json()["users"]] == ["u1"]


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31", -62135596800]
)
def test_writing_a_date_beyond_the_range_is_a_422_and_writes_nothing(api, dated, value):
    r = api.put("/users/u1", {"renewal_at": value, "name": "Changed"})
    assert r.status_code == 422, r.content
    err = error_of(r)
    assert err["field"] == "renewal_at"
    assert "0001-01-02 to 9999-12-30" in err["message"]
    assert api.get("/users/u1").json()["name"] is None


def test_activity_at_beyond_the_range_is_a_422(api, dated):
    r = api.post("/users/u1/activity", {"type": "call", "at": "0001-01-01T00:00:00Z"})
    assert r.status_code == 422
    assert error_of(r)["field"] == "at"


def test_the_ends_of_the_range_round_trip(api, dated):
    assert api.get("/users/u1").json()["renewal_at"] == "9999-12-30T23:59:59Z"
    assert api.get("/users/u2").json()["renewal_at"] == "0001-01-02T00:00:00Z"


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Etc/GMT+12"])
def test_pages_show_dates_at_the_ends_of_the_range_in_any_zone(api, dated, client, zone):
    """The profile, the users list sorted by the date, and search: all 200."""
    from pavior.workspaces.actions import create_admin

    set_zone(api, zone)
    user = create_admin("owner@example.com", "correct horse battery staple", workspaces=[dated])
    client.force_login(user)
    from pavior.web.listing import save_columns

    save_columns(user, dated, ["id", "renewal_at", "last_seen_at", "first_known_at"])
    u1 = Person.objects.get(external_id="u1")
    u2 = Person.objects.get(external_id="u2")
    # Also values stored before the range check (or by hand in SQL): shown, not raised.
    legacy = Person.objects.create(
        workspace=dated,
        external_id="legacy",
        last_seen_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        first_known_at=datetime(1, 1, 1, tzinfo=UTC),
        custom={"renewal_at": 253402300799.0},
    )
    for person in (u1, u2, legacy):
        r = client.get(f"/users/{person.pk}/")
        assert r.status_code == 200, (person.external_id, r.content[:500])
    for direction in ("asc", "desc"):
        for sort in ("renewal_at", "last_seen_at", "first_known_at"):
            r = client.get("/", {"sort": sort, "dir": direction})
            assert r.status_code == 200, r.content[:500]
    r = client.get("/", {"q": "example.com", "sort": "renewal_at"})
    assert r.status_code == 200
    r = client.get("/users/export.csv", {"sort": "renewal_at"})
    assert r.status_code == 200
    b"".join(r)


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_visitor_cannot_plant_an_edge_date_through_the_snippet(served, client):
    """The report's way in: the snippet (app_id only) sending 9999-12-31T23:59:59Z
    for a date attribute, then the profile breaking in Asia/Tokyo."""
    import json
    import time

    import httpx

    from pavior.people.actions import create_attribute
    from pavior.workspaces.actions import create_admin, create_workspace

    created = create_workspace("Acme")
    ws = created.workspace
    ws.timezone = "Asia/Tokyo"
    ws.save()
    create_attribute(ws, "renewal_at", "date")
    now_ms = int(time.time() * 1000)
    body = {
        "app_id": ws.app_id,
        "user": {"id": "anon1"},
        "events": [
            {
                "type": "init",
                "message_id": "m1",
                "at": now_ms,
                "attributes": {"renewal_at": "9999-12-31T23:59:59Z", "plan_at": "0001-01-01"},
            },
            {"type": "page", "message_id": "m2", "at": now_ms, "url": "https://x.example/"},
        ],
        "sent_at": now_ms,
    }
    r = httpx.post(f"{served.url}/api/v1/track", content=json.dumps(body), timeout=30)
    assert r.status_code < 500, r.text
    assert "0001-01-02 to 9999-12-30" in r.text  # the snippet is told why
    person = Person.objects.get(workspace=ws, external_id="anon1")  # the visit counts
    assert "renewal_at" not in person.custom and "plan_at" not in person.custom
    client.force_login(
        create_admin("o@example.com", "correct horse battery staple", workspaces=[ws])
    )
    for p in Person.objects.filter(workspace=ws):
        assert client.get(f"/users/{p.pk}/").status_code == 200


def test_an_import_rejects_rows_with_dates_beyond_the_range(api, dated):
    from tests.imports.conftest import run_import_bytes

    data = b"id,renewal_at\nu3,9999-12-31T23:59:59Z\nu4,0001-01-01\nu5,9999-12-30\n"
    imp = run_import_bytes(dated, data, {"renewal_at": "renewal_at"})
    assert imp.status == "done", imp.error
    assert imp.result["rejected"] == 2
    assert all("0001-01-02 to 9999-12-30" in r["reason"] for r in imp.result["rejected_samples"])
    assert api.get("/users/u5").json()["renewal_at"] == "9999-12-30T00:00:00Z"


def test_the_profile_page_refuses_an_edit_beyond_the_range(api, dated, client):
    from pavior.workspaces.actions import create_admin

    user = create_admin("o@example.com", "correct horse battery staple", workspaces=[dated])
    client.force_login(user)
    u1 = Person.objects.get(external_id="u1")
    r = client.post(f"/users/{u1.pk}/attributes/renewal_at/", {"value": "9999-12-31T23:59:59Z"})
    assert r.status_code < 500
    assert b"0001-01-02 to 9999-12-30" in r.content
    assert api.get("/users/u1").json()["renewal_at"] == "9999-12-30T23:59:59Z"
