"""Property-based: whatever schemathesis sends the API, it never answers 5xx.

Every operation of the OpenAPI document is called with generated inputs (valid and
invalid) through the real Django app, against the database under test.
"""

import json
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.core import NOT_SET

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def seeded_key(new_workspace, api):
    for name, type_ in [("plan", "string"), ("seats", "number"), ("renewal_at", "date")]:
        api.post("/attributes", {"name": name, "type": type_})
    api.put("/users/u1", {"email": "a@example.com", "plan": "pro", "seats": 3})
    return new_workspace.api_key


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_answers_5xx(case, seeded_key, client):
    # Django's test client (not the bare WSGI app) keeps the test's transaction.
    path = case.formatted_path
    if case.query:
        path += "?" + urlencode(case.query, doseq=True)
    data = b""
    if case.body is not NOT_SET and case.body is not None:
        body = case.body
        data = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
    response = client.generic(
        case.method.upper(),
        path,
        data=data,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {seeded_key}",
    )
    assert response.status_code < 500, (case.method, path, case.body, response.content)
    if response.status_code >= 400 and response.status_code != 405:
        body = json.loads(response.content)
        assert set(body) == {"error"}, body
