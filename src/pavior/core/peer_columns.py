"""Which attribute a CSV column goes to, and why: by our names, or by the column
names of the user exports of Intercom, Customer.io, Mailchimp and HubSpot.

One table for every door (the wizard, `pavior import`, `POST /imports`). A
peer's column goes to a built-in only when it means the same thing; a column
that only looks alike (Mailchimp's opt-in time is when someone joined a
mailing list, not when they signed up to the product) is proposed as a
custom attribute of its own, with the reason, so nothing is silently bent.

Sources (their published export formats):
- Intercom, People > Export users (CSV): "User ID", "Email", "Name", "Phone",
  "Signed up", "First seen", "Last seen", "City", "Region", "Country",
  "Unsubscribed from emails", "Web sessions", "Created at", "Company name".
- Customer.io, People > Export (CSV): "id", "email", "cio_id", "created_at",
  "unsubscribed", then one column per attribute.
- Mailchimp, Audience > Export (one CSV per status): "Email Address", "First
  Name", "Last Name", "Address", "Phone Number", "Birthday", "MEMBER_RATING",
  "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE",
  "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE", "CC", "REGION", "LAST_CHANGED",
  "LEID", "EUID", "NOTES", "TAGS"; the unsubscribed file adds "UNSUB_TIME",
  "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON", "UNSUB_REASON_OTHER".
- HubSpot, Contacts > Export: "Record ID", "First Name", "Last Name", "Email",
  "Phone Number", "Mobile Phone Number", "City", "State/Region",
  "Country/Region", "Create Date", "Last Activity Date", "Lifecycle Stage",
  "Contact owner", "Unsubscribed from all email".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .attributes import AttributeDef, AttrType, Trust, render_name
from .csv_rules import propose_attribute_name, typed_header

__all__ = ["ColumnMatch", "PEER_COLUMNS", "header_key", "match_column"]


@dataclass(frozen=True)
class PeerColumn:
    """What one peer's column is: a built-in (``attribute``), or None for "its own
    custom attribute"; ``invert`` when it says the opposite (unsubscribed)."""

    attribute: str | None
    source: str
    why: str
    invert: bool = False


@dataclass(frozen=True)
class ColumnMatch:
    """Where a column goes automatically: an existing attribute, or (``new``) a
    custom attribute to create under a proposed name; and the reason shown."""

    attribute: str
    reason: str
    invert: bool = False
    new: bool = False
    type: AttrType | None = None  # for a new attribute the header gives the type of


_SPLIT = re.compile(r"[^0-9a-z]+")
# Exports add the time zone to date headers: "Signed up (UTC)", "Last seen (GMT+2)".
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")


def header_key(header: str) -> str:
    """A header as compared: case, punctuation and a trailing "(UTC)" ignored."""
    text = _TRAILING_NOTE.sub("", header.strip()) or header.strip()
    return " ".join(w for w in _SPLIT.split(text.casefold()) if w)


_SUBSCRIPTION = "email_subscription"
_INVERTED = "who unsubscribed, the opposite of Email subscription, so it is read inverted"

# Keyed by header_key(header). Built-ins only where the meaning is the same.
PEER_COLUMNS: dict[str, PeerColumn] = {
    # Identity: the business's own user id, not the peer's record number.
    "user id": PeerColumn("id", "Intercom", "the id your product gives the user"),
    "email address": PeerColumn("email", "Mailchimp", "the subscriber's email address"),
    "intercom id": PeerColumn(None, "Intercom", "Intercom's own record id, not your user id"),
    "cio id": PeerColumn(None, "Customer.io", "Customer.io's own record id, not your user id"),
    "record id": PeerColumn(None, "HubSpot", "HubSpot's own record number, not your user id"),
    "leid": PeerColumn(None, "Mailchimp", "Mailchimp's own subscriber number"),
    "euid": PeerColumn(None, "Mailchimp", "Mailchimp's own subscriber id"),
    # Names and phone.
    "first name": PeerColumn("first_name", "Mailchimp and HubSpot", "the first name"),
    "last name": PeerColumn("last_name", "Mailchimp and HubSpot", "the last name"),
    "phone number": PeerColumn("phone", "Mailchimp and HubSpot", "the phone number"),
    "mobile phone number": PeerColumn(None, "HubSpot", "a second number beside Phone Number"),
    # Place. Country cells become the English names GeoIP stores.
    "country region": PeerColumn("country", "HubSpot", "the contact's country"),
    "cc": PeerColumn(
        "country", "Mailchimp", "the country code Mailchimp found from the subscriber's IP"
    ),
    "region": PeerColumn(
        None, "Intercom and Mailchimp", "a region; Pavior keeps only city and country"
    ),
    "state region": PeerColumn(None, "HubSpot", "a state; Pavior keeps only city and country"),
    "address": PeerColumn(None, "Mailchimp", "a postal address"),
    # When they arrived. Only "signed up" and "first known of" are ours.
    "signed up": PeerColumn("signed_up_at", "Intercom", "when the user signed up"),
    "created at": PeerColumn(
        "first_known_at", "Intercom and Customer.io", "when they first knew of the person"
    ),
    "create date": PeerColumn(
        "first_known_at", "HubSpot", "when HubSpot first knew of the contact"
    ),
    "optin time": PeerColumn(
        None, "Mailchimp", "when they joined the mailing list, not when they signed up"
    ),
    "confirm time": PeerColumn(None, "Mailchimp", "when they confirmed the mailing list"),
    "first seen": PeerColumn(
        None, "Intercom", "Intercom's first visit; Pavior's visits start with its snippet"
    ),
    "last seen": PeerColumn(
        None, "Intercom", "Intercom's last visit; Pavior's Last seen comes from its snippet"
    ),
    "web sessions": PeerColumn(
        None, "Intercom", "Intercom's visit count; Pavior counts its own visits"
    ),
    "last activity date": PeerColumn(
        None, "HubSpot", "HubSpot's activity; Pavior's Last activity comes from its own events"
    ),
    # Email subscription: only columns saying "unsubscribed", read inverted.
    "unsubscribed from emails": PeerColumn(_SUBSCRIPTION, "Intercom", _INVERTED, invert=True),
    "unsubscribed": PeerColumn(_SUBSCRIPTION, "Customer.io", _INVERTED, invert=True),
    "unsubscribed from all email": PeerColumn(_SUBSCRIPTION, "HubSpot", _INVERTED, invert=True),
    "unsub time": PeerColumn(
        None, "Mailchimp", "when they left the mailing list (the whole file is unsubscribed)"
    ),
}


def _own_name(attr: AttributeDef, header: str, key: str) -> str | None:
    if header.strip().casefold() == attr.name.casefold():
        return f"the header is the API name of {attr.rendered_name}"
    names = (attr.name, attr.rendered_name, render_name(attr.name))
    if key in map(header_key, names):
        return f"the header is the name of {attr.rendered_name}"
    return None


def match_column(header: str, attributes: Iterable[AttributeDef]) -> ColumnMatch | None:
    """Where ``header`` goes without being told, and why; None when nothing says.

    Our own names first (API or rendered name of any attribute, built-in or
    custom); then a peer's export column. An existing custom attribute named
    like a peer's column (a re-import) wins over proposing a new one.
    """
    key = header_key(header)
    if not key:
        return None
    typed = typed_header(header)
    if typed is not None:
        return _typed(typed[0], typed[1], attributes)
    # Only what an import may write: Intercom's "Last seen" is named like our
    # read-only Last seen, and is proposed as its own attribute instead.
    usable = [
        a for a in attributes if not a.live and not a.archived and Trust.IMPORT in a.writable_by
    ]
    for attr in usable:
        reason = _own_name(attr, header, key)
        if reason is not None:
            return ColumnMatch(attr.name, reason)
    peer = PEER_COLUMNS.get(key)
    if peer is None:
        return None
    if peer.attribute is None:
        return ColumnMatch(propose_attribute_name(header), _because(peer), new=True)
    by_name = {a.name: a for a in usable}
    target = by_name.get(peer.attribute)
    if target is None or (peer.invert and target.type is not AttrType.BOOLEAN):
        return None
    return ColumnMatch(target.name, _because(peer), invert=peer.invert)


def _typed(name: str, type_: AttrType, attributes: Iterable[AttributeDef]) -> ColumnMatch | None:
    reason = f"the header names the attribute {name} and its type ({type_.value})"
    for attr in attributes:
        if attr.name == name:
            # Same name, other type: no guess; the person maps it.
            return ColumnMatch(name, reason) if attr.type is type_ else None
    return ColumnMatch(name, reason, new=True, type=type_)


def _because(peer: PeerColumn) -> str:
    return f"in {peer.source} exports it is {peer.why}"
