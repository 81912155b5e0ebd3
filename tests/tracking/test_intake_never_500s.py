"""Property-based: whatever a browser or a Segment library sends the intake as
served (pavior.asgi under uvicorn), it never answers 5xx.

Bodies are generated around the real shapes, so that most get past the first
check and reach the deeper ones: edge dates in sent_at / at / timestamp /
sentAt, nesting 3,000 deep, NUL and lone surrogates, 100,000-character
strings, in ids, traits, event fields and the envelope. (A 503 would make the
snippet retry the same bad batch forever, so it counts as a failure too.)
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import nasty_inputs as nasty

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
ATTRIBUTES = ["id", "email", "name", "phone", "city", "plan", "renewal_at", "signed_up_at",
              "first_known_at", "total_visits", "email_subscription"]  # fmt: skip
EVENT_TYPES = ["page", "heartbeat", "interaction", "identify", "track", "screen", "group", "alias"]


def user() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.dictionaries(
            st.one_of(st.sampled_from(ATTRIBUTES), nasty.text()),
            st.one_of(nasty.date_value(), nasty.value()),
            max_size=5,
        ),
        nasty.value(),
    )


def snippet_event() -> st.SearchStrategy[Any]:
    fields = {
        "type": st.one_of(st.sampled_from(EVENT_TYPES), nasty.scalar()),
        "at": nasty.date_value(),
        "message_id": nasty.scalar(),
        "url": nasty.scalar(),
        "name": nasty.value(),
        "properties": nasty.value(),
    }
    return st.one_of(st.fixed_dictionaries({}, optional=fields), nasty.value())


def segment_message() -> st.SearchStrategy[Any]:
    fields = {
        "type": st.one_of(st.sampled_from(EVENT_TYPES), nasty.scalar()),
        "userId": nasty.scalar(),
        "anonymousId": nasty.scalar(),
        "messageId": nasty.scalar(),
        "timestamp": nasty.date_value(),
        "sentAt": nasty.date_value(),
        "originalTimestamp": nasty.date_value(),
        "event": nasty.scalar(),
        "traits": user(),
        "properties": nasty.value(),
        "context": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"ip": nasty.scalar(), "page": nasty.value(), "traits": user()}
            ),
            nasty.value(),
        ),
    }
    return st.one_of(st.fixed_dictionaries({}, optional=fields), nasty.value())


RAW_BODIES = [
    nasty.DEEP_LIST.text.encode(),
    nasty.DEEP_OBJECT.text.encode(),
    b"\xff\xfe\x00",
    b"{",
    b'{"a": "\\ud800"}',
    b'"' + nasty.HUGE.encode() + b'"',
]


def body(envelope: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        envelope.map(lambda b: nasty.to_json(b).encode()),
        st.sampled_from(RAW_BODIES),
    )


def known_track_bodies(app_id: str) -> list[bytes]:
    """The shapes issue 8 reported, sent on every run whatever hypothesis draws."""
    page = {"type": "page", "message_id": "m1", "url": "https://shop.example/"}
    bodies: list[Any] = [
        {"app_id": app_id, "user": {"id": "u\x00"}, "events": [page]},
        {"app_id": app_id, "user": {"id": "u1"}, "events": [{**page, "url": "https://x/\x00"}]},
        {"app_id": app_id, "user": {"id": "u1", "plan": "a\x00b"}, "events": [page]},
        {"app_id": app_id, "user": {"id": "u1", "name": "\ud800"}, "events": [page]},
        {
            "app_id": app_id,
            "user": {"id": "u1"},
            "sent_at": "0001-01-01T00:00:00Z",
            "events": [{**page, "at": "9999-12-31T23:59:59Z"}],
        },
        {  # within the date range, but 10,000 years of clock skew apart
            "app_id": app_id,
            "user": {"id": "u1"},
            "sent_at": "0001-01-02T00:00:00Z",
            "events": [{**page, "at": "9999-12-30T23:59:59Z"}],
        },
        {
            "app_id": app_id,
            "user": {"id": "u1"},
            "sent_at": "9999-12-30T23:59:59Z",
            "events": [{**page, "at": "0001-01-02T00:00:00Z"}],
        },
        {
            "app_id": app_id,
            "user": {"id": "u1", "renewal_at": "9999-12-31T23:59:59Z"},
            "sent_at": 1e308,
            "events": [{**page, "at": -62135596800}],
        },
        {"app_id": app_id, "user": {"id": "u1"}, "events": [{**page, "url": nasty.HUGE}]},
        {"app_id": app_id, "user": {"id": "u1", "plan": nasty.DEEP_LIST}, "events": [page]},
    ]
    return [nasty.to_json(b).encode() for b in bodies] + RAW_BODIES


def known_segment_bodies(path: str) -> list[bytes]:
    identify = {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"plan": "p"}}
    messages: list[Any] = [
        {**identify, "userId": "u\x00"},
        {**identify, "traits": {"plan": "a\x00b", "name": "\ud800"}},
        {**identify, "timestamp": "9999-12-31T23:59:59Z", "sentAt": "0001-01-01T00:00:00Z"},
        {**identify, "timestamp": 1e308},
        {**identify, "timestamp": "9999-12-30T23:59:59Z", "sentAt": "0001-01-02T00:00:00Z"},
        {**identify, "timestamp": "0001-01-02T00:00:00Z", "sentAt": "9999-12-30T23:59:59Z"},
        {**identify, "traits": {"renewal_at": "9999-12-31T23:59:59Z", "createdAt": "0001-01-01"}},
        {**identify, "traits": {"plan": nasty.DEEP_OBJECT}},
        {**identify, "traits": {"plan": nasty.HUGE}},
    ]
    if path == "/v1/batch":
        messages = [{"batch": [m]} for m in messages]
    return [nasty.to_json(m).encode() for m in messages] + RAW_BODIES


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.fixture
def http(served: Any) -> Any:
    with httpx.Client(base_url=served.url, timeout=60) as c:
        yield c


def check(response: httpx.Response, sent: bytes) -> None:
    assert response.status_code < 500, (response.status_code, sent[:300], response.text[:500])


def test_track_never_answers_5xx(http: Any, new_workspace: Any) -> None:
    app_id = new_workspace.workspace.app_id
    envelope = st.fixed_dictionaries(
        {"app_id": st.just(app_id)},
        optional={
            "user": user(),
            "events": st.one_of(st.lists(snippet_event(), max_size=3), nasty.value()),
            "sent_at": nasty.date_value(),
            "user_hash": nasty.scalar(),
            "messages_version": nasty.scalar(),  # asks for the user's in-site messages
        },
    )

    def send(sent: bytes) -> None:
        check(
            http.post("/api/v1/track", content=sent, headers={"content-type": "text/plain"}), sent
        )

    for sent in known_track_bodies(app_id):
        send(sent)
    given(sent=body(envelope))(FUZZ(send))()


@pytest.mark.parametrize("trust", ["app_id", "api_key"])
@pytest.mark.parametrize("path", ["/v1/batch", "/v1/identify"])
def test_segment_endpoints_never_answer_5xx(
    http: Any, new_workspace: Any, trust: str, path: str
) -> None:
    key = new_workspace.workspace.app_id if trust == "app_id" else new_workspace.api_key
    if path == "/v1/batch":
        envelope = st.one_of(
            st.fixed_dictionaries(
                {"batch": st.lists(segment_message(), max_size=3)},
                optional={"sentAt": nasty.date_value(), "context": nasty.value()},
            ),
            nasty.value(),
        )
    else:
        envelope = segment_message()

    def send(sent: bytes) -> None:
        headers = {"authorization": basic(key), "content-type": "application/json"}
        check(http.post(path, content=sent, headers=headers), sent)

    for sent in known_segment_bodies(path):
        send(sent)
    few = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    given(sent=body(envelope))(few(send))()
