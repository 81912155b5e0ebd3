"""Many batches in a handful of statements: the group-commit writer's common case.

Storing batches one by one costs five round trips each on PostgreSQL
(savepoint, lock the user, insert the events, update the user, release),
and on two shared cores those round trips were the intake's whole budget.
Most batches are a known user's page views and heartbeats, so the writer
first stores all of those in a flush together:

1. one SELECT … FOR UPDATE per workspace locks the flush's known users
   (pavior.tracking.rows holds these statements, shared with the one-batch path),
2. one INSERT … ON CONFLICT DO NOTHING RETURNING stores their new events,
3. each user's values move with the same `derive` the one-batch path uses
   (a late event recomputes from the raw events, exactly as there),
4. one executemany UPDATE (a single pipelined round trip on PostgreSQL)
   writes every changed user.

New users known by an id alone (the snippet's anonymous or signed-in visitor
on a first page view) are made first, all in one INSERT
(pavior.people.actions.create_users_by_id, the same rule as one by one).
Batches this cannot take (a new user with an email, attributes to write, a
user or a message id that two batches of the flush share) are left to the
one-batch path, in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pavior.core.attributes import Trust
from pavior.people.actions import create_users_by_id
from pavior.people.models import Person
from pavior.tracking.actions import Event, Identity, IngestResult, derive, only_derived
from pavior.tracking.geoip import Place
from pavior.tracking.rows import (
    PendingRow,
    insert_pending,
    insert_raw_events,
    lock_people,
    update_derived,
)
from pavior.workspaces.models import Workspace


class Batch(Protocol):
    workspace: Workspace | None
    identity: Identity
    events: list[Event]
    received_at: datetime
    place: Place | None
    verified: bool
    trust: Trust


def store_simple(batches: Sequence[Batch], *, deferred: bool = False) -> dict[int, IngestResult]:
    """Store the batches this path can take; their results by position in `batches`.

    With `deferred`, their events go to PendingEvent instead, for the folder
    (pavior.tracking.folder) to apply: the users are only read, not locked,
    and nothing of theirs is written here but new users.

    Runs inside the caller's transaction; publish_live is the caller's, after commit.
    """
    picked = _simple(batches)
    if not picked:
        return {}
    people = _lock_people([batches[i] for i in picked], lock=not deferred)
    people |= _create_new([batches[i] for i in picked if _key(batches[i]) not in people])
    # A batch whose verification differs from its user's (a first verified call
    # to record, an unverified one to refuse: actions.admit) goes one by one.
    picked = [
        i
        for i in picked
        if _key(batches[i]) in people
        and batches[i].verified == (people[_key(batches[i])].verified_at is not None)
    ]
    rows: list[PendingRow] = []
    for i in picked:
        b = batches[i]
        person = people[_key(b)]
        rows += [(person.workspace_id, person.pk, e, b.received_at, b.place) for e in b.events]
    if deferred:
        inserted = insert_pending(rows)
    else:
        inserted = insert_raw_events([(w, p, e, r) for w, p, e, r, _ in rows])
    results: dict[int, IngestResult] = {}
    changed: list[Person] = []
    for i in picked:
        b = batches[i]
        person = people[_key(b)]
        new = {m for m in (e.message_id for e in b.events) if (person.workspace_id, m) in inserted}
        fresh = [e for e in b.events if e.message_id in new]
        result = IngestResult(verified=b.verified, person=person, fresh=fresh)
        result.accepted = len(new)
        result.duplicates = len(b.events) - len(new)
        if not deferred and derive(person, fresh, b.place):
            changed.append(person)
        results[i] = result
    update_derived(changed)
    return results


def _key(b: Batch) -> tuple[int, str]:
    assert b.workspace is not None and b.identity.key is not None
    return b.workspace.pk, b.identity.key


def _simple(batches: Sequence[Batch]) -> list[int]:
    """Positions of the batches without attribute writes whose user and message
    ids appear in no other such batch of the flush."""
    candidates = [
        i for i, b in enumerate(batches) if b.workspace is not None and only_derived(b.events)
    ]
    users = Counter(_key(batches[i]) for i in candidates)
    messages = Counter(
        (batches[i].workspace.pk, m)  # type: ignore[union-attr]
        for i in candidates
        for m in {e.message_id for e in batches[i].events}
    )
    return [
        i
        for i in candidates
        if users[_key(batches[i])] == 1
        and all(
            messages[(batches[i].workspace.pk, e.message_id)] == 1  # type: ignore[union-attr]
            for e in batches[i].events
        )
    ]


def _create_new(batches: list[Batch]) -> dict[tuple[int, str], Person]:
    """The new users of these batches that an id alone makes (no email to match
    or attach), workspace by workspace."""
    by_workspace: dict[int, tuple[Workspace, Trust, list[str]]] = {}
    for b in batches:
        identity = b.identity
        if identity.user_id and not (identity.email or identity.proven_email or identity.signed):
            assert b.workspace is not None
            ws, trust, ids = by_workspace.setdefault(b.workspace.pk, (b.workspace, b.trust, []))
            if b.trust is trust:
                ids.append(identity.user_id)
    made: dict[tuple[int, str], Person] = {}
    for pk, (ws, trust, ids) in sorted(by_workspace.items()):
        for user_id, person in create_users_by_id(ws, ids, trust=trust).items():
            made[(pk, user_id)] = person
    return made


def _lock_people(batches: list[Batch], *, lock: bool) -> dict[tuple[int, str], Person]:
    """The known users of these batches, locked (or only read) workspace by workspace."""
    by_workspace: dict[int, list[str]] = {}
    for b in batches:
        ws, key = _key(b)
        by_workspace.setdefault(ws, []).append(key)
    found: dict[tuple[int, str], Person] = {}
    for ws, keys in sorted(by_workspace.items()):
        for key, person in lock_people(ws, keys, lock=lock).items():
            found[(ws, key)] = person
    return found
