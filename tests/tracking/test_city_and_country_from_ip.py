"""City and country come from GeoIP of the visitor's address (a real MMDB file)."""

from __future__ import annotations

import base64
import json

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from pavior.people.models import Person
from pavior.tracking.geoip import MaxMindGeoIP, NoGeoIP, Place, set_geoip
from tests.tracking.conftest import T0, event, post, post_batch

pytestmark = pytest.mark.django_db(transaction=True)

LONDON = "81.2.69.142"
BERLIN = "2.125.160.216"


@pytest.fixture
def mmdb(tmp_path):
    writer = MMDBWriter(ip_version=4, database_type="GeoLite2-City")
    # GeoLite2 shape (names per language) and DB-IP Lite's flat shape.
    writer.insert_network(
        IPSet(["81.2.69.0/24"]),
        {
            "city": {"names": {"en": "London"}},
            "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
        },
    )
    writer.insert_network(IPSet(["2.125.160.0/24"]), {"city": "Berlin", "country_code": "DE"})
    path = tmp_path / "city.mmdb"
    writer.to_db_file(str(path))
    return str(path)


@pytest.fixture
def geoip(mmdb):
    reader = MaxMindGeoIP(mmdb)
    set_geoip(reader)
    yield reader
    set_geoip(None)


def test_the_reader_understands_both_database_shapes(geoip):
    assert geoip.lookup(LONDON) == Place("London", "United Kingdom")
    assert geoip.lookup(BERLIN) == Place("Berlin", "Germany")  # DB-IP carries codes; shown as names
    assert geoip.lookup("8.8.8.8") is None
    assert geoip.lookup("127.0.0.1") is None
    assert geoip.lookup("not an ip") is None


@pytest.fixture
def behind_proxy(settings):
    """Pavior behind a reverse proxy on this machine (the served app sees every
    request come from 127.0.0.1): the proxy states the visitor's address."""
    settings.PAVIOR_TRUSTED_PROXIES = ["127.0.0.1"]


def _visit(served, workspace, forwarded_for, at=T0):
    headers = {"X-Forwarded-For": forwarded_for}
    return post_batch(served, workspace.app_id, {"id": "u1"}, [event("page", at)], headers=headers)


def test_the_latest_visit_sets_city_and_country(served, workspace, geoip, behind_proxy, fake_clock):
    assert _visit(served, workspace, LONDON).status_code == 200
    p = Person.objects.get(external_id="u1")
    assert (p.city, p.country) == ("London", "United Kingdom")
    fake_clock.advance(60)
    _visit(served, workspace, BERLIN, at=fake_clock.now())
    p.refresh_from_db()
    assert (p.city, p.country) == ("Berlin", "Germany")
    # A late event from elsewhere is not the most recent visit.
    _visit(served, workspace, LONDON, at=T0)
    p.refresh_from_db()
    assert (p.city, p.country) == ("Berlin", "Germany")


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
    served, workspace, geoip, fake_clock, settings
):
    # No trusted proxy: the header is the client's own claim.
    assert _visit(served, workspace, LONDON).status_code == 200
    assert Person.objects.get(external_id="u1").city is None
    settings.PAVIOR_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.5"]
    _visit(served, workspace, f"{BERLIN}, {LONDON}, 10.0.0.5")
    # The nearest hop not a trusted proxy is the client; the rest could be forged.
    assert Person.objects.get(external_id="u1").city == "London"


def test_segment_calls_with_the_app_id_are_placed_and_server_calls_are_not(
    served, new_workspace, geoip, behind_proxy, fake_clock
):
    ws = new_workspace.workspace
    page = {"type": "page", "userId": "b1", "properties": {"url": "https://s.io/"}}
    for key, user in ((ws.app_id, "b1"), (new_workspace.api_key, "s1")):
        auth = base64.b64encode(f"{key}:".encode()).decode()
        r = post(
            served,
            "/v1/page",
            json.dumps({**page, "userId": user}),
            **{"Authorization": f"Basic {auth}", "X-Forwarded-For": LONDON},
        )
        assert r.status_code == 200, r.text
    # A backend's address says nothing about where its user is.
    places = dict(Person.objects.values_list("external_id", "city"))
    assert places == {"b1": "London", "s1": None}


def test_without_a_database_city_and_country_are_left_alone(
    served, workspace, behind_proxy, fake_clock
):
    set_geoip(NoGeoIP())
    try:
        Person.objects.create(workspace=workspace, external_id="u1", city="Lyon", country="FR")
        _visit(served, workspace, LONDON)
        p = Person.objects.get(external_id="u1")
        assert (p.city, p.country, p.total_visits) == ("Lyon", "FR", 1)
    finally:
        set_geoip(None)
