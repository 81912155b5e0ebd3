"""An activity type is 1 to 100 characters (core.activity): a longer one is
refused with a clear 422, never cut and stored as something else."""

from __future__ import annotations

from typing import Any

import pytest

from pavior.core.errors import InvalidValue
from pavior.people.models import Person
from pavior.tracking.activity import record_activity
from pavior.tracking.models import RawEvent
from tests.conftest import error_of


@pytest.mark.parametrize("activity_type", ["", "   ", "x" * 101])
def test_a_bad_type_is_a_422_naming_the_field_and_nothing_is_kept(
    api: Any, activity_type: str
) -> None:
    api.put("/users/u1", {"email": "u1@example.com"})
    r = api.post("/users/u1/activity", {"type": activity_type})
    assert r.status_code == 422
    assert error_of(r) == {
        "code": "invalid_value",
        "message": "type is a name of 1 to 100 characters, e.g. email_received",
        "field": "type",
    }
    assert not RawEvent.objects.exists()
    assert Person.objects.get().last_activity_at is None


def test_a_type_of_exactly_100_characters_is_kept_whole(api: Any) -> None:
    api.put("/users/u1", {"email": "u1@example.com"})
    assert api.post("/users/u1/activity", {"type": "y" * 100}).status_code == 200
    assert RawEvent.objects.get().type == "y" * 100


def test_the_action_refuses_it_too_whoever_calls_it(workspace: Any, api: Any) -> None:
    api.put("/users/u1", {"email": "u1@example.com"})
    with pytest.raises(InvalidValue):
        record_activity(workspace, "u1", "z" * 101)
    assert not RawEvent.objects.exists()
