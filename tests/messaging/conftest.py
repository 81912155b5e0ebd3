"""Fixtures for email-link tests: a user who was sent an email, and its unsubscribe link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pavior.core.attributes import Trust


@dataclass
class Emailed:
    workspace: Any
    person: Any
    message: Any
    token: str

    def link(self, base: str) -> str:
        return f"{base}/email/unsubscribe/{self.token}"

    def reload(self) -> Any:
        self.person.refresh_from_db()
        return self.person


def email_someone(workspace: Any, user_id: str = "u1", email: str = "ada@example.com") -> Emailed:
    """A user with an email address, an email message sent to them, and its link."""
    from pavior.messaging.actions import create_message
    from pavior.messaging.models import Delivery
    from pavior.messaging.tokens import make_token
    from pavior.people.actions import upsert_user
    from pavior.people.models import Person

    upsert_user(workspace, {"id": user_id, "email": email, "name": "Ada"}, trust=Trust.SECRET)
    person = Person.objects.get(workspace=workspace, external_id=user_id)
    message = create_message(workspace, "email", {"subject": "Spring news", "body": "Hello"})
    Delivery.objects.create(
        workspace=workspace, message=message, person=person, state=Delivery.State.SENT
    )
    return Emailed(workspace, person, message, make_token(workspace.pk, person.pk, message.pk))


@pytest.fixture
def emailed(transactional_db: Any) -> Emailed:
    from pavior.workspaces.actions import create_workspace

    return email_someone(create_workspace("Acme").workspace)
