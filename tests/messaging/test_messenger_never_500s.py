"""Property-based: whatever a browser sends the bubble's endpoints as served
(pavior.asgi under uvicorn), they never answer 5xx (SPEC §10: bad input is a
4xx naming the problem). Bodies are drawn around the real shape, with the
nasty values of tests/nasty_inputs.py in every field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pavior.workspaces.actions import create_workspace, update_workspace_settings
from tests import nasty_inputs as nasty
from tests.messaging.conftest import live_message, messenger, track
from tests.tracking.test_intake_never_500s import body, user

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
ACTIONS = ["show", "dismiss", "click", "messages", "resubscribe"]


@pytest.mark.parametrize("action", ACTIONS)
def test_messenger_endpoints_never_answer_5xx(served: Any, action: str) -> None:
    ws = create_workspace("Acme").workspace
    update_workspace_settings(ws, {"identity_verification": "off"})
    message = live_message(ws)
    assert track(served, ws.app_id, {"id": "ada"}).status_code == 200
    envelope = st.fixed_dictionaries(
        {"app_id": st.one_of(st.just(ws.app_id), nasty.scalar())},
        optional={
            "user": st.one_of(st.just({"id": "ada"}), user()),
            "message_id": st.one_of(st.just(message.pk), nasty.scalar(), nasty.value()),
        },
    )
    url = f"{served.url}/api/v1/messenger/{action}"

    def send(sent: bytes) -> None:
        r = httpx.post(url, content=sent, headers={"content-type": "text/plain"}, timeout=60)
        assert r.status_code < 500, (r.status_code, sent[:300], r.text[:500])

    # The real shape first, then a gzip claim on plain bytes, then what hypothesis draws.
    send(
        b'{"app_id": "%s", "user": {"id": "ada"}, "message_id": %d}'
        % (ws.app_id.encode(), message.pk)
    )
    r = httpx.post(url, content=b"{}", headers={"content-encoding": "gzip"}, timeout=60)
    assert r.status_code == 400
    given(sent=body(envelope))(FUZZ(send))()
    assert messenger(served, "messages", ws.app_id, {"id": "ada"}).status_code == 200
