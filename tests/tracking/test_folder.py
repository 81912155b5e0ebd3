"""The folder (PAVIOR_FOLD_IN_WORKER on): the intake
answers once a visitor's page views are stored in PendingEvent, and only the
fold moves the user's visits, time, last seen and place; after it, they are
what the inline path and a recompute give for the same events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pavior.core.identity import user_hash
from pavior.people.actions import erase_user
from pavior.people.models import Person
from pavior.tracking.actions import recompute_person
from pavior.tracking.folder import fold_all, fold_once
from pavior.tracking.geoip import MaxMindGeoIP, set_geoip
from pavior.tracking.models import PendingEvent, RawEvent
from pavior.tracking.rows import UPDATED
from tests.conftest import error_of
from tests.tracking.conftest import T0, event, minutes, post_batch
from tests.tracking.served_calls import track
from tests.tracking.test_city_and_country_from_ip import BERLIN, LONDON, mmdb  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

DERIVED = UPDATED  # the columns tracking moves
UNTOUCHED = (0, 0, None, None, None, None)
NOW = T0 + timedelta(hours=5)
NOWHERE = "8.8.8.8"  # an address the test GeoIP database does not know

# Visits across the 30 minute boundary, a late event that joins two, a heartbeat.
BATCHES = [
    [event("page", T0), event("heartbeat", T0 + minutes(10))],
    [event("page", T0 + minutes(60)), event("heartbeat", T0 + minutes(65))],
    [event("heartbeat", T0 + minutes(35))],  # late: joins the first two visits
    [event("page", T0 + minutes(200))],
]


@pytest.fixture
def deferred(settings: Any, fake_clock: Any) -> Any:
    """The served intake defers to the folder (the server reads settings live)."""
    settings.PAVIOR_FOLD_IN_WORKER = True
    fake_clock.current = NOW
    return settings


def derived(ws: Any, user_id: str) -> tuple[Any, ...]:
    p = Person.objects.get(workspace=ws, external_id=user_id)
    return tuple(getattr(p, f) for f in DERIVED)


def recomputed(ws: Any, user_id: str) -> tuple[Any, ...]:
    recompute_person(Person.objects.get(workspace=ws, external_id=user_id))
    return derived(ws, user_id)


def renamed(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same events under new message ids (for another user)."""
    return [{**e, "message_id": e["message_id"] + "-inline"} for e in batch]


def send(served: Any, ws: Any, user: str, batch: list[dict[str, Any]], ip: str = "") -> Any:
    headers = {"X-Forwarded-For": ip} if ip else None
    r = post_batch(served, ws.app_id, {"id": user}, batch, sent_at=NOW, headers=headers)
    assert r.status_code == 200, r.text
    return (r.json()["accepted"], r.json()["duplicates"])


def inline(settings: Any, served: Any, ws: Any, user: str, batches: list[Any]) -> Any:
    """The values the inline path gives for these batches (as `user`)."""
    settings.PAVIOR_FOLD_IN_WORKER = False
    for batch, *ip in batches:
        send(served, ws, user, renamed(batch), *ip)
    settings.PAVIOR_FOLD_IN_WORKER = True
    assert PendingEvent.objects.count() == 0
    return derived(ws, user)


@pytest.mark.parametrize("fold_after", [(3,), (1, 3), (0, 1, 2, 3)], ids=["once", "twice", "each"])
def test_folded_values_equal_the_inline_path_and_recompute(served, workspace, deferred, fold_after):
    waiting = 0
    for n, batch in enumerate(BATCHES):
        before = derived(workspace, "u1") if n else UNTOUCHED
        assert send(served, workspace, "u1", batch) == (len(batch), 0)
        waiting += len(batch)
        # Acknowledged and stored, but nothing of the user moved yet.
        assert PendingEvent.objects.count() == waiting
        assert derived(workspace, "u1") == before
        if n in fold_after:
            assert fold_all() == waiting
            waiting = 0
    assert PendingEvent.objects.count() == 0
    assert RawEvent.objects.filter(person__external_id="u1").count() == 6
    expected = inline(deferred, served, workspace, "u2", [(b,) for b in BATCHES])
    assert expected[0] == 2 and expected[2:4] == (T0 + minutes(200),) * 2
    assert derived(workspace, "u1") == expected
    assert recomputed(workspace, "u1") == expected


def test_folds_in_small_chunks_split_a_users_events(served, workspace, deferred):
    for batch in BATCHES:
        send(served, workspace, "u1", batch)
    while fold_once(limit=2):
        pass
    expected = inline(deferred, served, workspace, "u2", [(b,) for b in BATCHES])
    assert derived(workspace, "u1") == expected
    assert recomputed(workspace, "u1") == expected


def test_a_retried_batch_counts_as_duplicates_pending_or_folded(served, workspace, deferred):
    batch = [event("page", T0), event("heartbeat", T0 + minutes(1))]
    assert send(served, workspace, "u1", batch) == (2, 0)
    assert send(served, workspace, "u1", batch) == (0, 2)  # still pending
    assert PendingEvent.objects.count() == 2
    fold_all()
    assert send(served, workspace, "u1", batch) == (0, 2)  # already folded
    assert PendingEvent.objects.count() == 0
    assert send(served, workspace, "u1", [batch[0], event("page", T0 + minutes(2))]) == (1, 1)
    fold_all()
    assert RawEvent.objects.count() == 3 and PendingEvent.objects.count() == 0
    assert derived(workspace, "u1")[:4] == (1, 120, T0 + minutes(2), T0 + minutes(2))


def test_a_retry_that_goes_inline_counts_pending_events_as_duplicates(served, workspace, deferred):
    batch = [event("page", T0), event("heartbeat", T0 + minutes(1))]
    assert send(served, workspace, "u1", batch) == (2, 0)
    # Sent again with an attribute write: the inline path takes it now.
    update = event("update", T0 + minutes(2), attributes={"plan": "pro"})
    assert send(served, workspace, "u1", [*batch, update]) == (1, 2)
    assert PendingEvent.objects.count() == 2
    fold_all()
    assert RawEvent.objects.count() == 3 and PendingEvent.objects.count() == 0
    assert Person.objects.get(external_id="u1").custom == {"plan": "pro"}
    assert derived(workspace, "u1") == recomputed(workspace, "u1")
    assert derived(workspace, "u1")[:3] == (1, 120, T0 + minutes(2))


def test_a_new_visitor_exists_as_soon_as_answered(served, api, workspace, deferred):
    assert send(served, workspace, "new-visitor", [event("page", T0)]) == (1, 0)
    r = api.get("/users/new-visitor")
    assert r.status_code == 200, r.content
    assert r.json()["id"] == "new-visitor"
    assert PendingEvent.objects.count() == 1
    fold_all()
    assert api.get("/users/new-visitor").json()["last_seen_at"] is not None


def test_an_erased_users_pending_events_are_dropped(served, api, workspace, deferred):
    for user in ("gone", "deleted", "stays"):
        send(served, workspace, user, [event("page", T0), event("heartbeat", T0 + minutes(1))])
    gone_id = Person.objects.get(workspace=workspace, external_id="gone").pk
    erase_user(workspace, "gone")
    assert api.delete("/users/deleted").status_code == 204
    # Erasing deletes their pending events with them...
    assert PendingEvent.objects.count() == 2
    # ...and an event acknowledged in the same instant (written after the
    # erasure) is dropped by the fold.
    PendingEvent.objects.create(
        workspace_id=workspace.pk,
        person_id=gone_id,
        message_id="late",
        type="page",
        at=T0,
        received_at=T0,
    )
    assert fold_all() == 3
    assert PendingEvent.objects.count() == 0
    assert sorted(RawEvent.objects.values_list("person__external_id", flat=True)) == ["stays"] * 2
    assert list(Person.objects.values_list("external_id", flat=True)) == ["stays"]
    assert derived(workspace, "stays")[:3] == (1, 60, T0 + minutes(1))


def test_a_verified_user_still_refuses_unverified_page_views(served, new_workspace, deferred):
    ws = new_workspace.workspace
    user = {"id": "u1", "user_hash": user_hash(new_workspace.identity_secret, "u1")}
    r = track(served, ws.app_id, user, event("init", T0, attributes={"name": "Ada"}))
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    for unverified in ({"id": "u1"}, {"id": "u1", "user_hash": "0" * 64}):
        r = track(served, ws.app_id, unverified, event("page", T0 + minutes(1)))
        assert r.status_code == 403, r.text
        assert error_of(r)["code"] == "identity_verification_failed"
    assert PendingEvent.objects.count() == 0
    r = track(served, ws.app_id, user, event("page", T0 + minutes(2)))
    assert r.status_code == 200 and r.json()["verified"] is True
    assert PendingEvent.objects.count() == 1
    fold_all()
    assert derived(ws, "u1")[:3] == (1, 120, T0 + minutes(2))


INIT = [event("init", T0 + minutes(5), attributes={"plan": "pro"})]


@pytest.mark.parametrize("fold_between", [False, True], ids=["together", "fold-between"])
@pytest.mark.parametrize("init_at", [0, 2, 4], ids=["init-first", "init-middle", "init-last"])
def test_an_init_inline_and_deferred_page_views_mix(
    served, workspace, deferred, init_at, fold_between
):
    """An init with attributes goes inline even now; the page views around it
    wait for the fold. Whatever the order, the user ends as if all were inline."""
    batches = list(BATCHES)
    batches.insert(init_at, INIT)
    for n, batch in enumerate(batches):
        send(served, workspace, "u1", batch)
        if fold_between and n % 2:
            fold_all()
    fold_all()
    assert PendingEvent.objects.count() == 0
    u1 = Person.objects.get(external_id="u1")
    assert u1.custom == {"plan": "pro"}
    assert RawEvent.objects.filter(person=u1).count() == 7
    expected = inline(deferred, served, workspace, "u2", [(b,) for b in batches])
    assert derived(workspace, "u1") == expected
    assert recomputed(workspace, "u1") == expected


@pytest.fixture
def geoip(mmdb, settings):  # noqa: F811
    settings.PAVIOR_TRUSTED_PROXIES = ["127.0.0.1"]  # the visitor's address from the proxy
    set_geoip(MaxMindGeoIP(mmdb))
    yield
    set_geoip(None)


VISITS = {
    # London, then Berlin later, then a late event from London: Berlin is the newest.
    "newest": (
        [([event("page", T0 + minutes(1))], LONDON)],
        [([event("page", T0 + minutes(60))], BERLIN)],
        [([event("page", T0)], LONDON)],
        ("Berlin", "Germany"),
    ),
    # A newer visit from an address GeoIP does not know keeps the known place.
    "unknown-newest": (
        [([event("page", T0 + minutes(1))], LONDON)],
        [([event("page", T0 + minutes(60))], NOWHERE)],
        [],
        ("London", "United Kingdom"),
    ),
    # An older visit with a place, folded with a newer one without: the newer
    # visit that had one before (Berlin) stays.
    "late-with-place": (
        [([event("page", T0 + minutes(60))], BERLIN)],
        [([event("page", T0 + minutes(120))], NOWHERE)],
        [([event("page", T0)], LONDON)],
        ("Berlin", "Germany"),
    ),
    # The same, the newer visit without a place and the late one with a place
    # in one fold after the first: the late one's place is not the newest.
    "late-with-place-folded-with-newer": (
        [([event("page", T0 + minutes(60))], BERLIN)],
        [([event("page", T0 + minutes(120))], NOWHERE), ([event("page", T0)], LONDON)],
        ("Berlin", "Germany"),
    ),
}


@pytest.mark.parametrize("fold_between", [False, True], ids=["together", "fold-between"])
@pytest.mark.parametrize("case", sorted(VISITS))
def test_city_and_country_of_the_newest_visit(
    served, workspace, deferred, geoip, case, fold_between
):
    *deliveries, place = VISITS[case]
    for group in deliveries:
        for batch, ip in group:
            send(served, workspace, "u1", batch, ip)
        if fold_between:
            fold_all()
    fold_all()
    expected = inline(deferred, served, workspace, "u2", [b for g in deliveries for b in g])
    assert expected[4:] == place
    assert derived(workspace, "u1") == expected
