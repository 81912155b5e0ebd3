"""init/update write browser-writable attributes; refusals are reported, not stored."""

from __future__ import annotations

import pytest

from pavior.people.actions import create_attribute, update_attribute
from pavior.people.models import AttributeDefinition, Person
from tests.tracking.conftest import T0, event, post_batch

pytestmark = pytest.mark.django_db(transaction=True)


def _init(served, workspace, attrs, user=None, extra=()):
    events = [event("init", T0, attributes=attrs), *extra]
    return post_batch(served, workspace.app_id, user or {"id": "u1"}, events, sent_at=T0)


def test_init_creates_unknown_attributes_with_inferred_types(served, workspace, fake_clock):
    r = _init(
        served,
        workspace,
        {
            "plan": "pro",
            "seats": 3,
            "trial_ends_at": 1714564800,
            "beta": True,
            "name": "Ada Lovelace",
        },
    )
    assert r.status_code == 200 and r.json()["errors"] == []
    types = dict(AttributeDefinition.objects.values_list("name", "type"))
    assert types == {
        "plan": "string",
        "seats": "number",
        "trial_ends_at": "date",
        "beta": "boolean",
    }
    p = Person.objects.get(external_id="u1")
    assert p.custom == {"plan": "pro", "seats": 3, "trial_ends_at": 1714564800, "beta": True}
    assert (p.first_name, p.last_name) == ("Ada", "Lovelace")


def test_a_refused_attribute_is_reported_and_the_rest_is_kept(served, workspace, fake_clock):
    create_attribute(workspace, "seats", "number")
    r = _init(
        served,
        workspace,
        {"seats": "many", "plan": "pro", "total_visits": 99, "city": "Paris"},
        extra=[event("page", T0)],
    )
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 2
    fields = sorted(e["field"] for e in body["errors"])
    assert fields == ["city", "seats", "total_visits"]
    seats = next(e for e in body["errors"] if e["field"] == "seats")
    assert "number" in seats["message"] and '"many"' in seats["message"]
    p = Person.objects.get(external_id="u1")
    assert p.custom == {"plan": "pro"}
    assert (p.total_visits, p.city) == (1, None)


def test_update_sets_attributes_on_the_current_user(served, workspace, fake_clock):
    _init(served, workspace, {})
    r = post_batch(
        served, workspace.app_id, {"id": "u1"}, [event("update", T0, attributes={"plan": "team"})]
    )
    assert r.status_code == 200 and r.json()["errors"] == []
    assert Person.objects.get(external_id="u1").custom == {"plan": "team"}


def test_without_snippet_creation_unknown_names_are_reported(served, workspace, fake_clock):
    workspace.snippet_creates_attributes = False
    workspace.save()
    r = _init(served, workspace, {"plan": "pro"})
    (err,) = r.json()["errors"]
    assert err["field"] == "plan" and err["code"] == "unknown_attribute"
    assert not AttributeDefinition.objects.exists()
    assert Person.objects.get(external_id="u1").custom == {}


def test_a_locked_attribute_cannot_be_written_from_the_browser(served, workspace, fake_clock):
    create_attribute(workspace, "tier", "string")
    update_attribute(workspace, "tier", browser_writable=False)
    (err,) = _init(served, workspace, {"tier": "gold"}).json()["errors"]
    assert err["field"] == "tier" and "browser" in err["message"]


def test_the_snippet_cannot_set_signed_up_at_directly(served, workspace, fake_clock):
    (err,) = _init(served, workspace, {"signed_up_at": "2024-01-01"}).json()["errors"]
    assert err["field"] == "signed_up_at"
    assert Person.objects.get(external_id="u1").signed_up_at is None
