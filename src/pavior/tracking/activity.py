"""Non-website activity (an email received, a call): POST /users/{id}/activity."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from pavior.core.activity import valid_activity_type
from pavior.core.errors import NotFound
from pavior.people import hooks
from pavior.people.models import Person
from pavior.tracking.actions import append_activity
from pavior.workspaces.models import Workspace


def record_activity(
    workspace: Workspace, user_id: str, activity_type: str, at: datetime | None = None
) -> Person:
    """Record non-website activity: it moves last_activity_at, never backwards.

    Kept with the website events (a raw event) so `pavior recompute` sees it too.
    """
    activity_type = valid_activity_type(activity_type)
    now = timezone.now()
    at = min(at or now, now).astimezone(UTC)
    with transaction.atomic():
        person = (
            Person.objects.select_for_update()
            .filter(workspace=workspace, external_id=user_id)
            .first()
        )
        if person is None:
            raise NotFound(f'No user with id "{user_id}"', field="id")
        append_activity(person, activity_type, at, now)
        if person.last_activity_at is None or at > person.last_activity_at:
            person.last_activity_at = at
            person.save(update_fields=["last_activity_at", "updated_at"])
            hooks.user_changed.emit(
                hooks.UserChanged(
                    workspace_id=person.workspace_id,
                    person_id=person.pk,
                    user_id=person.external_id,
                    created=False,
                    changed=frozenset({"last_activity_at"}),
                )
            )
        return person
