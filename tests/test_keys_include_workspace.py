"""Every primary and unique key includes workspace_id, so the tables can be
distributed by workspace (Citus, docs/scaling.md): a distributed table's keys
must contain its distribution column, or the database could not check them
on one node.

The test lists every table's primary and unique keys from the database
itself (both engines) and fails on any key without workspace_id that is not
in ALLOWED below, each with the reason it may not include it today. A new
table or key must either include workspace_id or be added here with its
reason (and its plan in docs/scaling.md).
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# Global tables: not per workspace at all. In a distributed database they stay
# on the coordinator or become reference tables (copied to every node); they
# are small (team members, sessions, sign-in attempts, migrations, task queue).
GLOBAL = {
    # Django's own tables (auth, content types, migrations, sessions): one
    # team-member directory for the whole installation, not per workspace.
    "auth_group": "Django auth: global",
    "auth_group_permissions": "Django auth: global",
    "auth_permission": "Django auth: global",
    "auth_user": "Django auth: team members sign in once for every workspace",
    "auth_user_groups": "Django auth: global",
    "auth_user_user_permissions": "Django auth: global",
    "django_content_type": "Django: global",
    "django_migrations": "Django: global",
    "django_session": "Django: a session is a team member's, across workspaces",
    # django-axes: sign-in attempts per address and account, before any workspace.
    "axes_accessattempt": "sign-in lockout: before any workspace is chosen",
    "axes_accessattemptexpiration": "sign-in lockout: before any workspace is chosen",
    "axes_accessfailurelog": "sign-in lockout: before any workspace is chosen",
    "axes_accesslog": "sign-in lockout: before any workspace is chosen",
    # django-tasks' queue: one queue for the installation (a task names its workspace
    # in its arguments).
    "django_tasks_database_dbtaskresult": "task queue: global",
    # The workspaces themselves: their id IS workspace_id (distributed by it, or a
    # reference table).
    "workspaces_workspace": "its id is the workspace_id",
    # A team member's last workspace: keyed by the member, who spans workspaces.
    "web_lastworkspace": "per team member, who spans workspaces",
}

# Keys of per-workspace tables that do not include workspace_id today.
ALLOWED = {
    # Surrogate ids: Django's one-column `id` primary key. Before distributing,
    # each becomes (workspace_id, id) (Django 5.2's CompositePrimaryKey), and
    # foreign keys to them carry workspace_id (docs/scaling.md, step 4).
    ("people_person", ("id",)): "surrogate id; (workspace_id, id) before distributing",
    ("people_attributedefinition", ("id",)): "surrogate id; as people_person",
    ("tracking_rawevent", ("id",)): "surrogate id; as people_person",
    ("tracking_pendingevent", ("id",)): "surrogate id; as people_person",
    ("segments_segment", ("id",)): "surrogate id; as people_person",
    ("imports_import", ("id",)): "surrogate id; as people_person",
    ("web_columnpreference", ("id",)): "surrogate id; as people_person",
    ("workspaces_membership", ("id",)): "surrogate id; as people_person",
    ("workspaces_apikey", ("id",)): "surrogate id; as people_person",
    ("workspaces_identitysecret", ("id",)): "surrogate id; as people_person",
    ("messaging_message", ("id",)): "surrogate id; as people_person",
    ("messaging_delivery", ("id",)): "surrogate id; as people_person",
    ("messaging_suppression", ("id",)): "surrogate id; as people_person",
    ("messaging_subscriptionchange", ("id",)): "surrogate id; as people_person",
    # A message belongs to one workspace, so (message, person) is unique per
    # workspace already; the show and outbox statements name these columns in
    # ON CONFLICT. Before distributing it becomes (workspace_id, message_id,
    # person_id) and those statements with it.
    ("messaging_delivery", ("message_id", "person_id")): "message implies the workspace",
    # The typed side table of indexed custom attributes: a person (and an
    # attribute definition) belongs to one workspace. Before distributing, it
    # gains workspace_id and its key becomes (workspace_id, person_id, attribute_id).
    ("people_indexedvalue", ("attribute_id", "person_id")): "person implies the workspace",
    # Looked up before the workspace is known: a secret API key is all a REST call
    # brings, and an import's token is all its progress URL brings. Globally unique
    # by construction (random); distributed, they become a small routing table
    # (key -> workspace) on the coordinator, or a reference table.
    ("workspaces_apikey", ("key_hash",)): "the key finds the workspace",
    ("imports_import", ("token",)): "the token finds the import and its workspace",
}


def keys() -> list[tuple[str, tuple[str, ...], str]]:
    """(table, columns, 'primary'|'unique') for every key of every table."""
    found = []
    with connection.cursor() as cur:
        for table in sorted(connection.introspection.table_names(cur)):
            constraints = connection.introspection.get_constraints(cur, table)
            for c in constraints.values():
                if c["primary_key"] or c["unique"]:
                    # Sorted: the engines list a composite key's columns in different orders.
                    columns = tuple(sorted(str(col) for col in c["columns"]))
                    found.append((table, columns, "primary" if c["primary_key"] else "unique"))
    return found


def test_every_key_includes_workspace_id_or_says_why_not() -> None:
    listed = keys()
    assert any(t == "people_person" for t, _, _ in listed)  # the listing sees the tables
    offending = [
        f"{table} {kind} key {columns}"
        for table, columns, kind in listed
        if "workspace_id" not in columns and table not in GLOBAL and (table, columns) not in ALLOWED
    ]
    assert not offending, "keys without workspace_id:\n" + "\n".join(offending)


def test_the_allow_list_names_only_keys_that_exist() -> None:
    """A key fixed (or a table dropped) leaves the list, so it never hides a new one."""
    listed = {(t, c) for t, c, _ in keys()}
    tables = {t for t, _ in listed}
    assert set(ALLOWED) <= listed, set(ALLOWED) - listed
    assert set(GLOBAL) <= tables, set(GLOBAL) - tables
