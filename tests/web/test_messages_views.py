"""The message composer's form handling, on both databases (Django's test client).

What the browser sees is tested in test_messages_pages.py; here: that the form's
fields become the message the REST API would store, that each refusal comes back
next to its field, and that counts and per-day stats are right.
"""

from __future__ import annotations

import json
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from pavior.core.attributes import Trust
from pavior.messaging.models import Delivery, Message, Suppression

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def ws(db: Any) -> Any:
    from pavior.workspaces.actions import create_workspace

    return create_workspace("Acme").workspace


@pytest.fixture
def member(ws: Any) -> Any:
    from pavior.workspaces.actions import create_admin

    return create_admin("Owner@Example.com", PASSWORD, workspaces=[ws])


@pytest.fixture
def admin(client: Any, member: Any) -> Any:
    client.force_login(member)
    return client


def people(ws: Any, rows: list[dict[str, Any]]) -> None:
    from pavior.people.actions import upsert_user

    for values in rows:
        upsert_user(ws, values, trust=Trust.SECRET)


def compose(**fields: Any) -> dict[str, Any]:
    base = {
        "channel": "in_app",
        "kind": "announcement",
        "title": "Hello",
        "body": "Hi **there**",
        "sender_name": "Ada",
        "fs": "",
        "fa": [""],
        "fo": ["eq"],
        "fv": [""],
        "join": "and",
        "ra": [""],
        "ro": ["eq"],
        "rv": [""],
        "rjoin": "and",
        "starts_at": "",
        "ends_at": "",
        "to_status": "",
    }
    base.update(fields)
    return base


def test_the_form_becomes_the_message_the_api_would_store(admin: Any, ws: Any, member: Any) -> None:
    r = admin.post(
        "/messages/new/in-app/",
        compose(
            kind="chat",
            sender_name="",
            fa=["country", "name"],
            fo=["eq", "contains"],
            fv=["FR", "an"],
            join="or",
            ra=["current_page_url", "time_on_current_page", "interacted_in_current_session"],
            ro=["contains", "gte", "is_false"],
            rv=["/pricing", "30", ""],
            starts_at="2030-01-02T09:30",
        ),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    m = Message.objects.get()
    assert r["Location"] == f"/messages/{m.pk}/"
    assert (m.channel, m.kind, m.status, m.title) == ("in_app", "chat", "draft", "Hello")
    assert m.sender_id == member.pk and m.sender_name == "owner@example.com"
    assert m.audience == {
        "or": [
            {"attribute": "country", "op": "eq", "value": "FR"},
            {"attribute": "name", "op": "contains", "value": "an"},
        ]
    }
    assert m.rules == {
        "and": [
            {"attribute": "current_page_url", "op": "contains", "value": "/pricing"},
            {"attribute": "time_on_current_page", "op": "gte", "value": 30},
            {"attribute": "interacted_in_current_session", "op": "eq", "value": False},
        ]
    }
    assert m.starts_at == datetime(2030, 1, 2, 9, 30, tzinfo=UTC)  # workspace zone is UTC
    assert m.body_html == "<p>Hi <strong>there</strong></p>"


def test_the_edit_form_shows_the_stored_rules_and_audience_and_saves_them_unchanged(
    admin: Any, ws: Any
) -> None:
    from pavior.messaging.actions import create_message
    from pavior.segments.actions import create_segment

    seg = create_segment(ws, "French", {"attribute": "country", "op": "eq", "value": "FR"})
    audience = {"and": [{"segment": seg.pk}, {"attribute": "name", "op": "is_set"}]}
    rules = {"attribute": "interacted_in_current_session", "op": "eq", "value": True}
    m = create_message(
        ws, "in_app", {"title": "T", "body": "B", "audience": audience, "rules": rules}
    )
    page = admin.get(f"/messages/{m.pk}/edit/").content.decode()
    assert f'<option value="{seg.pk}" selected>French</option>' in page
    assert '<option value="name" data-type="string" selected>' in page
    assert '<option value="is_true" selected>yes</option>' in page
    # Saving the form as it was shown keeps the message as it was.
    r = admin.post(
        f"/messages/{m.pk}/edit/",
        compose(
            title="T",
            body="B",
            fs=str(seg.pk),
            fa=["name", ""],
            fo=["is_set", "eq"],
            fv=["", ""],
            ra=["interacted_in_current_session", ""],
            ro=["is_true", "eq"],
            rv=["", ""],
        ),
    )
    assert r.status_code == 302
    m.refresh_from_db()
    assert m.audience == audience
    assert m.rules == rules


def test_nested_audiences_from_the_api_are_kept_not_flattened(admin: Any, ws: Any) -> None:
    from pavior.messaging.actions import create_message

    nested = {
        "or": [
            {
                "and": [
                    {"attribute": "country", "op": "eq", "value": "FR"},
                    {"attribute": "name", "op": "is_set"},
                ]
            },
            {"attribute": "country", "op": "eq", "value": "DE"},
        ]
    }
    m = create_message(ws, "in_app", {"title": "T", "body": "B", "audience": nested})
    page = admin.get(f"/messages/{m.pk}/edit/").content.decode()
    assert "nested groups" in page
    r = admin.post(
        f"/messages/{m.pk}/edit/",
        compose(title="T2", body="B", audience_json=json.dumps(nested), fa=[], fo=[], fv=[]),
    )
    assert r.status_code == 302
    m.refresh_from_db()
    assert m.title == "T2" and m.audience == nested


@pytest.mark.parametrize(
    ("fields", "where", "text"),
    [
        ({"title": "", "to_status": "live"}, "title-error", "needs a title"),
        ({"body": "  ", "to_status": "live"}, "body-error", "needs a body"),
        ({"title": "x" * 201}, "title-error", "longer than 200"),
        (
            {"ra": ["time_on_current_page"], "ro": ["gte"], "rv": ["soon"]},
            "rules-error",
            "number of seconds",
        ),
        ({"ra": ["country"], "ro": ["eq"], "rv": ["FR"]}, "rules-error", "not a live attribute"),
        ({"fa": ["current_page_url"], "fo": ["eq"], "fv": ["/x"]}, "filter-error", "live"),
        ({"fa": ["signed_up_at"], "fo": ["before"], "fv": ["not a date"]}, "filter-error", ""),
        (
            {"starts_at": "2030-01-02T10:00", "ends_at": "2030-01-02T09:00"},
            "ends-error",
            "after starts_at",
        ),
        ({"starts_at": "someday"}, "starts-error", "starts_at"),
        ({"kind": "popup"}, "kind", "kind must be one of"),
        ({"to_status": "archived"}, "status-error", "cannot be archived"),
    ],
)
def test_each_refusal_is_shown_next_to_its_field_and_nothing_is_saved(
    admin: Any, ws: Any, fields: dict[str, Any], where: str, text: str
) -> None:
    r = admin.post("/messages/new/in-app/", compose(**fields))
    assert r.status_code == 422
    page = r.content.decode()
    assert text in page
    if where != "kind":
        assert f'id="{where}">' in page
        start = page.index(f'id="{where}">')
        assert text in page[start : start + 400]
    assert Message.objects.count() == 0


def test_filter_and_rules_buttons_rebuild_the_form_without_saving(admin: Any, ws: Any) -> None:
    r = admin.post(
        "/messages/new/in-app/",
        compose(
            fa=["country", "name"],
            fo=["eq", "is_set"],
            fv=["FR", ""],
            remove_condition="0",
            add_rule="1",
            ra=["current_page_url"],
            ro=["contains"],
            rv=["/a"],
        ),
    )
    assert r.status_code == 200
    page = r.content.decode()
    assert Message.objects.count() == 0
    assert (
        'id="fa-1"' not in page
        or '<option value="country" data-type="string" selected>' not in page
    )
    assert '<option value="name" data-type="string" selected>' in page
    assert 'id="ra-1"' in page  # the added, empty rule row
    assert 'value="/a"' in page


def test_status_moves_through_the_status_endpoint(admin: Any, ws: Any) -> None:
    from pavior.messaging.actions import create_message

    m = create_message(ws, "in_app", {"title": "T", "body": "B"})
    assert admin.post(f"/messages/{m.pk}/status/", {"status": "live"}).status_code == 302
    m.refresh_from_db()
    assert m.status == "live" and m.went_live_at is not None
    admin.post(f"/messages/{m.pk}/status/", {"status": "paused"})
    m.refresh_from_db()
    assert m.status == "paused"
    admin.post(f"/messages/{m.pk}/status/", {"status": "draft"})  # not a move a paused one has
    m.refresh_from_db()
    assert m.status == "paused"
    page = admin.get(f"/messages/{m.pk}/").content.decode()
    assert "cannot become draft" in page


def test_another_workspaces_message_is_not_found(admin: Any, ws: Any) -> None:
    from pavior.messaging.actions import create_message
    from pavior.workspaces.actions import create_workspace

    other = create_workspace("Other").workspace
    m = create_message(other, "in_app", {"title": "Theirs", "body": "B"})
    assert admin.get(f"/messages/{m.pk}/").status_code == 404
    assert admin.get(f"/messages/{m.pk}/edit/").status_code == 404
    assert admin.post(f"/messages/{m.pk}/edit/", compose()).status_code == 404
    assert admin.post(f"/messages/{m.pk}/status/", {"status": "live"}).status_code == 404
    assert admin.get(f"/messages/{m.pk}/audience-size/").status_code == 404
    m.refresh_from_db()
    assert (m.status, m.title) == ("draft", "Theirs")
    assert "Theirs" not in admin.get("/messages/").content.decode()


def test_preview_renders_markdown_and_shows_hostile_bodies_as_text(admin: Any) -> None:
    body = "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> *ok*"
    r = admin.post(
        "/messages/preview/",
        {
            "channel": "in_app",
            "kind": "chat",
            "sender_name": "Ada Lovelace",
            "title": "<b>T</b>",
            "body": body,
        },
    )
    html = r.content.decode()
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<em>ok</em>" in html
    assert "&lt;b&gt;T&lt;/b&gt;" in html
    assert ">AL</span>" in html


def test_audience_count_and_email_reach(admin: Any, ws: Any) -> None:
    from pavior.people.models import Person

    people(
        ws,
        [
            {"id": "a", "email": "a@example.com", "country": "FR"},
            {"id": "b", "email": "b@example.com", "country": "FR"},
            {"id": "c", "email": "c@example.com", "country": "FR"},
            {"id": "d", "country": "FR"},
            {"id": "e", "email": "e@example.com", "country": "DE"},
        ],
    )
    Person.objects.filter(external_id="b").update(email_subscription=False)
    Suppression.objects.create(workspace=ws, email="c@example.com", reason="bounce")
    form = {"fa": ["country"], "fo": ["eq"], "fv": ["FR"], "join": "and", "fs": ""}
    html = admin.post("/messages/audience/", {"channel": "in_app", **form}).content.decode()
    assert "<strong>4</strong> users match" in html
    html = admin.post("/messages/audience/", {"channel": "email", **form}).content.decode()
    assert "Would get it: <strong>1</strong>" in html
    assert "1 unsubscribed, 1 without email, 1 suppressed" in html
    bad = {"fa": ["current_page_url"], "fo": ["eq"], "fv": ["/"], "join": "and"}
    html = admin.post("/messages/audience/", {"channel": "in_app", **bad}).content.decode()
    assert 'class="field-error"' in html


def test_send_test_without_the_sender_says_so_and_keeps_the_draft(admin: Any, ws: Any) -> None:

    r = admin.post(
        "/messages/new/email/",
        {"channel": "email", "subject": "S", "body": "B", "delivery": "once", "send_test": "1"},
        follow=True,
    )
    m = Message.objects.get()
    assert m.channel == "email" and m.status == "draft" and m.subject == "S"
    page = r.content.decode()
    assert "Test email sent to owner@example.com" in page or "not sent" in page


def test_daily_stats_count_unique_users_per_local_day(ws: Any) -> None:
    from pavior.messaging.actions import create_message, update_message
    from pavior.messaging.insights import daily_stats
    from pavior.people.models import Person

    people(ws, [{"id": f"u{i}"} for i in range(4)])
    m = create_message(ws, "in_app", {"title": "T", "body": "B"})
    m = update_message(ws, m.pk, {}, status="live")
    Message.objects.filter(pk=m.pk).update(went_live_at=datetime(2026, 3, 1, 12, tzinfo=UTC))
    m.refresh_from_db()
    # 23:30 UTC on 1 March is 2 March in Tokyo.
    shown = [
        datetime(2026, 3, 1, 10, tzinfo=UTC),
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        datetime(2026, 3, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 3, 2, tzinfo=UTC),
    ]
    for person, at in zip(Person.objects.order_by("id"), shown, strict=True):
        Delivery.objects.create(
            workspace=ws,
            message=m,
            person=person,
            state="shown",
            shown_at=at,
            clicked_at=at + timedelta(minutes=1) if at.day == 3 else None,
        )
    utc = daily_stats(m, zoneinfo.ZoneInfo("UTC"), today=date(2026, 3, 4))
    assert utc.days == [date(2026, 3, d) for d in (1, 2, 3, 4)]
    assert utc.counts["shown"] == [2, 0, 2, 0]
    assert utc.counts["clicked"] == [0, 0, 2, 0]
    assert utc.counts["dismissed"] == [0, 0, 0, 0]
    tokyo = daily_stats(m, zoneinfo.ZoneInfo("Asia/Tokyo"), today=date(2026, 3, 4))
    assert tokyo.counts["shown"] == [1, 1, 2, 0]


def test_the_email_message_page_shows_outcomes_and_progress(admin: Any, ws: Any) -> None:
    from django.utils import timezone

    from pavior.messaging.actions import create_message
    from pavior.people.models import Person

    people(ws, [{"id": f"u{i}", "email": f"u{i}@example.com"} for i in range(5)])
    m = create_message(ws, "email", {"subject": "News", "body": "B"})
    Message.objects.filter(pk=m.pk).update(status="live", went_live_at=timezone.now())
    now = timezone.now()
    states = ["sent", "sent", "failed", "skipped", "pending"]
    for person, state in zip(Person.objects.order_by("id"), states, strict=True):
        Delivery.objects.create(
            workspace=ws,
            message=m,
            person=person,
            state=state,
            reason={"failed": "550 <no such user>", "skipped": "unsubscribed"}.get(state, ""),
            sent_at=now if state == "sent" else None,
        )
    page = admin.get(f"/messages/{m.pk}/").content.decode()
    assert "Sending: 4 of 5 done (1 pending)" in page
    assert '<progress id="send-progress-bar" max="5" value="4">' in page
    for label, n in (("Sent", 2), ("Failed", 1), ("Skipped", 1)):
        assert (
            f'<span class="stat-label">{label}</span> <span class="stat-value">{n}</span>' in page
        )
    assert "News, sent: 2" not in page  # bars are titled by day
    assert ", sent: 2</title>" in page and ", failed: 1</title>" in page
    assert '<tr><td>unsubscribed</td><td class="num">1</td></tr>' in page
    assert '<tr><td>550 &lt;no such user&gt;</td><td class="num">1</td></tr>' in page
    listing = admin.get("/messages/").content.decode()
    assert '<span class="muted">Sent</span> <strong>2</strong>' in listing


def test_an_archived_message_cannot_be_changed_from_the_form(admin: Any, ws: Any) -> None:
    from pavior.messaging.actions import create_message, update_message

    m = create_message(ws, "in_app", {"title": "Old", "body": "B"})
    update_message(ws, m.pk, {}, status="archived")
    page = admin.get(f"/messages/{m.pk}/edit/").content.decode()
    assert "This message is archived" in page and "Save changes" not in page
    r = admin.post(f"/messages/{m.pk}/edit/", compose(title="New"))
    assert r.status_code == 422
    assert 'id="status-error">An archived message cannot be changed' in r.content.decode()
    m.refresh_from_db()
    assert m.title == "Old"


def test_the_list_counts_each_audience_in_its_own_request(admin: Any, ws: Any) -> None:
    from pavior.messaging.actions import create_message
    from pavior.people.actions import create_attribute

    people(ws, [{"id": "a", "country": "FR"}, {"id": "b", "country": "DE"}])
    fr = create_message(
        ws,
        "in_app",
        {
            "title": "T",
            "body": "B",
            "audience": {"attribute": "country", "op": "eq", "value": "FR"},
        },
    )
    create_attribute(ws, "plan", "string")
    gone = create_message(
        ws,
        "in_app",
        {"title": "P", "body": "B", "audience": {"attribute": "plan", "op": "eq", "value": "x"}},
    )
    from pavior.people.actions import delete_attribute

    delete_attribute(ws, "plan")
    page = admin.get("/messages/").content.decode()
    assert f'hx-get="/messages/{fr.pk}/audience-size/" hx-trigger="load"' in page
    assert admin.get(f"/messages/{fr.pk}/audience-size/").content.decode().strip() == "1"
    problem = admin.get(f"/messages/{gone.pk}/audience-size/").content.decode()
    assert 'class="field-error"' in problem and "plan" in problem


@pytest.mark.parametrize(
    "path",
    [
        "/?segment=%C2%B2",
        "/?fa=country&fo=eq&fv=FR&join=and&remove_condition=%C2%B2",
        "/?fa=country&fo=eq&fv=FR&join=and&fs=%C2%B2",
        "/reports/?segment=%C2%B2",
    ],
)
def test_digits_that_are_not_ascii_are_no_index_or_id(admin: Any, path: str) -> None:
    # "²".isdigit() is true but int("²") raises: these once answered 500.
    assert admin.get(path).status_code < 500


def test_an_email_draft_page_says_who_would_be_skipped(admin: Any, ws: Any) -> None:
    from pavior.messaging.actions import create_message
    from pavior.people.models import Person

    people(ws, [{"id": "a", "email": "a@example.com"}, {"id": "b"}, {"id": "c", "email": "c@x.io"}])
    Person.objects.filter(external_id="c").update(email_subscription=False)
    m = create_message(ws, "email", {"subject": "S", "body": "B"})
    page = admin.get(f"/messages/{m.pk}/").content.decode()
    assert "Would get it: <strong>1</strong>" in page
    assert "Will be skipped: 1 unsubscribed, 1 without email." in page
