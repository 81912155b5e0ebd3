"""A site or backend already using Segment points the official client at Pavior."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from segment.analytics import Client
from segment.analytics.request import APIError

from pavior.people.models import AttributeDefinition, Person
from pavior.tracking.models import RawEvent
from pavior.workspaces.actions import create_workspace

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ws(transactional_db):
    return create_workspace("Acme")


def _client(live_server, key, errors):
    return Client(
        write_key=key,
        host=live_server.url,
        sync_mode=True,
        max_retries=0,
        on_error=lambda e, batch: errors.append(e),
    )


def test_identify_with_a_secret_key_maps_segment_traits(live_server, ws):
    errors: list = []
    seg = _client(live_server, ws.api_key, errors)
    seg.identify(
        "u1",
        {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@x.io",
            "phone": "+44 1",
            "address": {"city": "London", "country": "United Kingdom"},
            "createdAt": "2023-02-01T10:00:00Z",
            "plan": "pro",
            "company": {"name": "Analytical Engines"},
            "tags": ["a", "b"],
        },
    )
    seg.track("u1", "Ordered", {"total": 3})
    assert errors == []
    p = Person.objects.get(workspace=ws.workspace, external_id="u1")
    assert (p.first_name, p.last_name, p.name, p.email, p.phone) == (
        "Ada",
        "Lovelace",
        "Ada Lovelace",
        "ada@x.io",
        "+44 1",
    )
    assert (p.city, p.country) == ("London", "United Kingdom")
    assert p.signed_up_at == datetime(2023, 2, 1, 10, tzinfo=UTC)
    assert p.custom == {"plan": "pro"}
    assert not AttributeDefinition.objects.filter(name__in=["company", "tags"]).exists()
    # With a secret key, identify and track are other activity: no visit.
    assert (p.total_visits, p.last_seen_at) == (0, None)
    assert p.last_activity_at is not None
    assert RawEvent.objects.filter(person=p, website=False).count() == 2


def test_page_calls_are_website_activity_and_timestamps_are_honoured(live_server, ws):
    errors: list = []
    seg = _client(live_server, ws.workspace.app_id, errors)
    start = datetime.now(UTC) - timedelta(minutes=10)
    seg.page("u2", name="Home", properties={"url": "https://s.io/"}, timestamp=start)
    seg.page(
        "u2",
        name="Pricing",
        properties={"url": "https://s.io/pricing"},
        timestamp=start + timedelta(seconds=40),
    )
    seg.identify("u2", {"createdAt": "2020-01-01", "plan": "free"})
    assert errors == []
    p = Person.objects.get(external_id="u2")
    assert p.total_visits == 1
    # The identify (browser trust: website activity) came later, at "now".
    assert p.total_time_spent >= 40
    assert p.signed_up_at is None  # createdAt needs a secret key
    assert p.custom == {"plan": "free"}


def test_a_retried_message_is_stored_once(live_server, ws):
    errors: list = []
    seg = _client(live_server, ws.api_key, errors)
    for _ in range(2):
        seg.track("u3", "Clicked", message_id="m-1")
    assert errors == []
    assert RawEvent.objects.filter(message_id="m-1").count() == 1


def test_a_wrong_write_key_is_refused(live_server, ws):
    seg = _client(live_server, "sk_wrong", [])
    with pytest.raises(APIError) as raised:
        seg.identify("u4", {"plan": "x"})
    assert raised.value.status == 401
    assert not Person.objects.exists()
