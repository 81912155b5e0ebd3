"""No form the message pages take answers a 5xx, whatever its fields hold (SPEC §10)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.nasty_inputs import DEEP, EDGE_DATES, NASTY_TEXT

pytestmark = pytest.mark.django_db

FIELDS = [
    "channel",
    "kind",
    "title",
    "subject",
    "body",
    "sender_name",
    "delivery",
    "starts_at",
    "ends_at",
    "to_status",
    "send_test",
    "fs",
    "fa",
    "fo",
    "fv",
    "join",
    "remove_condition",
    "add_condition",
    "ra",
    "ro",
    "rv",
    "rjoin",
    "remove_rule",
    "audience_json",
    "rules_json",
    "status",
]
KNOWN = [
    "country",
    "name",
    "email",
    "signed_up_at",
    "total_visits",
    "email_subscription",
    "current_page_url",
    "time_on_current_page",
    "interacted_in_current_session",
    "eq",
    "ne",
    "contains",
    "gte",
    "lte",
    "before",
    "is_true",
    "is_false",
    "is_set",
    "live",
    "paused",
    "archived",
    "draft",
    "in_app",
    "email",
    "chat",
    "once",
    "ongoing",
    "and",
    "or",
    "0",
    "1",
    "-1",
    "99999999999999999999",
    '{"attribute": "country", "op": "eq", "value": "FR"}',
    '{"and": []}',
    '{"segment": 99999999999999999999}',
    "[",
    "null",
    "{}",
    '{"a":' * DEEP + "1" + "}" * DEEP,
    '{"attribute": "current_page_url", "op": "eq", "value": "/"}',
]


def _text() -> st.SearchStrategy[str]:
    # A browser sends UTF-8: no lone surrogates in a form field.
    plain = st.text(st.characters(codec="utf-8"), max_size=30)
    dates = st.sampled_from([d for d in EDGE_DATES if isinstance(d, str)])
    nasty = st.sampled_from(
        [t for t in NASTY_TEXT if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]
    )
    return st.one_of(st.sampled_from(KNOWN), plain, dates, nasty)


form = st.dictionaries(
    st.sampled_from(FIELDS), st.lists(_text(), min_size=1, max_size=3), max_size=12
)


@pytest.fixture
def setup(client: Any, db: Any) -> Any:
    from pavior.messaging.actions import create_message
    from pavior.workspaces.actions import create_admin, create_workspace

    ws = create_workspace("Acme").workspace
    member = create_admin("owner@example.com", "correct horse battery staple", workspaces=[ws])
    client.force_login(member)
    m = create_message(ws, "in_app", {"title": "T", "body": "B"})
    e = create_message(ws, "email", {"subject": "S", "body": "B"})
    return client, m.pk, e.pk


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=form, where=st.integers(min_value=0, max_value=6))
def test_message_forms_never_answer_5xx(setup: Any, data: dict[str, list[str]], where: int) -> None:
    client, in_app, email = setup
    path = [
        "/messages/new/in-app/",
        "/messages/new/email/",
        f"/messages/{in_app}/edit/",
        f"/messages/{email}/edit/",
        f"/messages/{in_app}/status/",
        "/messages/preview/",
        "/messages/audience/",
    ][where]
    r = client.post(path, data)
    assert r.status_code < 500, (path, data)
