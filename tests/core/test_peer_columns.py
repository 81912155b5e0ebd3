"""The peers' export columns go to the built-in that means the same, with the reason;
columns that only look alike are proposed as attributes of their own."""

from __future__ import annotations

import pytest

from pavior.core.attributes import BUILTINS, AttrType, custom_attribute
from pavior.core.countries import country_from_text
from pavior.core.peer_columns import header_key, match_column

ATTRS = list(BUILTINS.values())


@pytest.mark.parametrize(
    ("header", "attribute", "invert"),
    [
        # Intercom
        ("User ID", "id", False),
        ("Name", "name", False),
        ("Phone", "phone", False),
        ("Signed up", "signed_up_at", False),
        ("Signed up (UTC)", "signed_up_at", False),
        ("Created at", "first_known_at", False),
        ("Country", "country", False),
        ("Unsubscribed from emails", "email_subscription", True),
        # Customer.io
        ("id", "id", False),
        ("email", "email", False),
        ("created_at", "first_known_at", False),
        ("unsubscribed", "email_subscription", True),
        # Mailchimp
        ("Email Address", "email", False),
        ("First Name", "first_name", False),
        ("Last Name", "last_name", False),
        ("Phone Number", "phone", False),
        ("CC", "country", False),
        # HubSpot
        ("Email", "email", False),
        ("Country/Region", "country", False),
        ("City", "city", False),
        ("Create Date", "first_known_at", False),
        ("Unsubscribed from all email", "email_subscription", True),
    ],
)
def test_peer_columns_that_mean_ours(header: str, attribute: str, invert: bool) -> None:
    found = match_column(header, ATTRS)
    assert found is not None and not found.new
    assert (found.attribute, found.invert) == (attribute, invert)
    assert found.reason


@pytest.mark.parametrize(
    ("header", "proposed", "says"),
    [
        ("OPTIN_TIME", "optin_time", "not when they signed up"),
        ("CONFIRM_TIME", "confirm_time", "confirmed"),
        ("Record ID", "record_id", "not your user id"),
        ("cio_id", "cio_id", "not your user id"),
        ("LEID", "leid", "Mailchimp"),
        ("First seen", "first_seen", "snippet"),
        ("Last seen", "last_seen", "snippet"),
        ("Web sessions", "web_sessions", "visit"),
        ("State/Region", "state_region", "city and country"),
        ("Mobile Phone Number", "mobile_phone_number", "second number"),
        ("Address", "address", "postal"),
        ("UNSUB_TIME", "unsub_time", "mailing list"),
    ],
)
def test_lookalikes_get_their_own_attribute(header: str, proposed: str, says: str) -> None:
    found = match_column(header, ATTRS)
    assert found is not None and found.new
    assert found.attribute == proposed and says in found.reason


def test_our_own_names_come_first_and_say_so() -> None:
    plan = custom_attribute("optin_time", AttrType.DATE)
    found = match_column("OPTIN_TIME", [*ATTRS, plan])
    assert found is not None and not found.new and found.attribute == "optin_time"
    assert "API name" in found.reason
    found = match_column("Signed up on", ATTRS)
    assert found is not None and found.attribute == "signed_up_at"
    assert found.reason == "the header is the name of Signed up on"


def test_unknown_and_empty_headers() -> None:
    assert match_column("Favourite colour", ATTRS) is None
    assert match_column("", ATTRS) is None
    assert header_key("Signed up (UTC)") == "signed up"
    assert header_key("(UTC)") == "utc"


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("ES", "Spain"),
        ("es", "Spain"),
        ("Spain", "Spain"),
        (" SPAIN ", "Spain"),
        ("GB", "United Kingdom"),
        ("UK", "United Kingdom"),
        ("United Kingdom", "United Kingdom"),
        ("United States of America", "United States"),
        ("US", "United States"),
        ("Russian Federation", "Russia"),
        ("Czech Republic", "Czechia"),
        ("Atlantis", "Atlantis"),
    ],
)
def test_countries_are_stored_as_geoip_names(text: str, stored: str) -> None:
    assert country_from_text(text) == stored
