from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_indexed_triggers(using: str = "default", **kwargs: Any) -> None:
    # SQLite drops a table's triggers when a migration remakes the table; put
    # the side table's triggers back after every migrate (a no-op otherwise).
    from django.db import connections

    from pavior.people.indexed import ensure_triggers

    ensure_triggers(connections[using])


class PeopleConfig(AppConfig):
    name = "pavior.people"
    label = "people"

    def ready(self) -> None:
        post_migrate.connect(_ensure_indexed_triggers, sender=self)
