"""Moving in: the user exports of Intercom, Customer.io, Mailchimp and HubSpot, in
their published column formats, import through `pavior import` and the wizard
with no mapping typed by hand, each column saying why it went where it went."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.cli.conftest import cli_env, pavior

pytestmark = pytest.mark.django_db(transaction=True)

INTERCOM = (
    "Name,Email,User ID,Phone,Signed up (UTC),First seen,Last seen,Web sessions,City,"
    "Region,Country,Unsubscribed from emails,Company name\n"
    "Ann Lee,ann@example.com,u_1,+34 600 000 001,2023-04-05 10:11:12,2023-04-01 09:00:00,"
    "2024-01-02 03:04:05,12,Madrid,Madrid,Spain,false,Acme\n"
    "Bob Stone,bob@example.com,u_2,,2023-05-06 00:00:00,2023-05-06 00:00:00,"
    "2024-02-03 04:05:06,3,London,England,United Kingdom,true,\n"
)
CUSTOMER_IO = (
    "id,email,cio_id,created_at,unsubscribed,plan\n"
    "42,carol@example.com,a3000001,1680689472,false,pro\n"
    "43,dan@example.com,a3000002,1680775872,true,free\n"
)
MAILCHIMP = (
    "Email Address,First Name,Last Name,Address,Phone Number,Birthday,MEMBER_RATING,"
    "OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,"
    "TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS\n"
    'erin@example.com,Erin,Diaz,"1 Main St  Springfield IL 62701 US",+1 555 0100,04/12,2,'
    "2022-01-03 10:00:00,,2022-01-03 10:05:00,203.0.113.5,39.78,-89.65,-6,-5,"
    'America/Chicago,US,IL,2022-02-01 12:00:00,123456,abc123,,"Customers"\n'
    "fred@example.com,Fred,,,,,3,2022-03-04 11:00:00,,2022-03-04 11:02:00,,51.5,-0.12,"
    "0,1,Europe/London,gb,ENG,2022-03-05 12:00:00,123457,abc124,,\n"
)
HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,City,State/Region,Country/Region,"
    "Create Date,Lifecycle Stage,Unsubscribed from all email\n"
    "101,Fay,Wong,fay@example.com,+44 20 7946 0000,London,,United Kingdom,"
    "2021-06-07 08:09,Customer,false\n"
    "102,Gus,Ito,gus@example.com,,Osaka,,JP,2021-07-08 10:11,Lead,true\n"
)


def user(client: Client, key: str, user_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/users/{user_id}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 200, r.content
    return r.json()


def cli_import(tmp_path: Any, app_id: str, name: str, text: str) -> dict[str, Any]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    r = pavior(["import", str(path), "--workspace", app_id, "--json"], cli_env(tmp_path))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_intercom_users_export(tmp_path: Any, client: Client) -> None:
    from pavior.workspaces.actions import create_workspace

    new = create_workspace("Acme")
    out = cli_import(tmp_path, new.workspace.app_id, "intercom.csv", INTERCOM)
    assert out["mapping"] == {
        "Name": "name",
        "Email": "email",
        "User ID": "id",
        "Phone": "phone",
        "Signed up (UTC)": "signed_up_at",
        "City": "city",
        "Country": "country",
        "Unsubscribed from emails": "email_subscription",
    }
    assert out["inverted"] == ["Unsubscribed from emails"]
    assert out["reasons"]["User ID"].startswith(
        "mapped automatically because in Intercom exports it is"
    )
    assert "opposite of Email subscription" in out["reasons"]["Unsubscribed from emails"]
    assert "snippet" in out["reasons"]["Last seen"]
    assert (out["created"], out["rejected"]) == (2, 0)
    ann = user(client, new.api_key, "u_1")
    assert ann["email"] == "ann@example.com" and ann["first_name"] == "Ann"
    assert ann["signed_up_at"] == "2023-04-05T10:11:12Z"
    assert (ann["city"], ann["country"], ann["email_subscription"]) == ("Madrid", "Spain", True)
    bob = user(client, new.api_key, "u_2")
    assert (bob["country"], bob["email_subscription"]) == ("United Kingdom", False)


def test_customer_io_people_export(tmp_path: Any, client: Client) -> None:
    from pavior.workspaces.actions import create_workspace

    new = create_workspace("Acme")
    out = cli_import(tmp_path, new.workspace.app_id, "customerio.csv", CUSTOMER_IO)
    assert out["mapping"] == {
        "id": "id",
        "email": "email",
        "created_at": "first_known_at",
        "unsubscribed": "email_subscription",
    }
    assert "not your user id" in out["reasons"]["cio_id"]
    carol, dan = user(client, new.api_key, "42"), user(client, new.api_key, "43")
    assert carol["first_known_at"] == "2023-04-05T10:11:12Z"
    assert (carol["email_subscription"], dan["email_subscription"]) == (True, False)


def test_mailchimp_audience_export(tmp_path: Any, client: Client) -> None:
    from pavior.workspaces.actions import create_workspace

    new = create_workspace("Acme")
    out = cli_import(tmp_path, new.workspace.app_id, "mailchimp.csv", MAILCHIMP)
    assert out["mapping"] == {
        "Email Address": "email",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Phone Number": "phone",
        "CC": "country",
    }
    assert "not when they signed up" in out["reasons"]["OPTIN_TIME"]
    assert "--map 'OPTIN_TIME=optin_time:TYPE'" in out["reasons"]["OPTIN_TIME"]
    erin = user(client, new.api_key, "erin@example.com")
    assert (erin["name"], erin["phone"], erin["country"]) == (
        "Erin Diaz",
        "+1 555 0100",
        "United States",
    )
    assert erin.get("signed_up_at") is None  # opt-in time is not a sign-up
    assert user(client, new.api_key, "fred@example.com")["country"] == "United Kingdom"


def test_hubspot_contacts_export(tmp_path: Any, client: Client) -> None:
    from pavior.workspaces.actions import create_workspace

    new = create_workspace("Acme")
    out = cli_import(tmp_path, new.workspace.app_id, "hubspot.csv", HUBSPOT)
    assert out["mapping"] == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "City": "city",
        "Country/Region": "country",
        "Create Date": "first_known_at",
        "Unsubscribed from all email": "email_subscription",
    }
    assert "HubSpot's own record number" in out["reasons"]["Record ID"]
    fay = user(client, new.api_key, "fay@example.com")
    assert (fay["country"], fay["first_known_at"]) == ("United Kingdom", "2021-06-07T08:09:00Z")
    gus = user(client, new.api_key, "gus@example.com")
    assert (gus["country"], gus["email_subscription"]) == ("Japan", False)
