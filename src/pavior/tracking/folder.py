"""The folder: applies acknowledged events to their users in batches.

With PAVIOR_FOLD_IN_WORKER on (off by default), the intake's
writer stores a visitor's page views and heartbeats in PendingEvent and
answers once that is committed, without reading-and-writing the user's row
(pavior.tracking.bulk, deferred). The folder, a thread of `pavior worker`,
then takes the oldest pending events a batch at a time and, in one
transaction per batch:

1. locks their users (by workspace, then id: the order the writer locks in),
2. moves the events into RawEvent (ON CONFLICT DO NOTHING: an event stored
   meanwhile by the inline path counts once),
3. moves each user's visits, time, last seen, last activity and place with
   the same `derive` the inline path uses (a late event recomputes from the
   raw events, exactly as there),
4. writes the changed users in one statement and deletes the batch's
   pending rows.

It is idempotent and restartable: the pending table is its checkpoint. A
batch is applied and removed in the same transaction, so a kill -9 at any
point leaves it either applied and gone or untouched and still pending; the
next fold (of this or another process) takes it again. On PostgreSQL several
folders may run (FOR UPDATE SKIP LOCKED hands each its own rows); on SQLite
they take turns with the writers through the same file lock.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from pavior.people.models import Person
from pavior.tracking.actions import Event, derive
from pavior.tracking.geoip import Place
from pavior.tracking.models import PendingEvent
from pavior.tracking.rows import insert_raw_events, lock_people_by_id, update_derived
from pavior.tracking.writer import between_processes

log = logging.getLogger("pavior.tracking")

# How long the folder sleeps when it found nothing to fold: the lag of an
# event that arrives at an idle moment is at most this plus one fold.
IDLE_WAIT_SECONDS = 0.05
# Statement size for the DELETE of a folded batch.
DELETE_CHUNK = 500


@dataclass
class _Item:
    id: int
    event: Event
    received_at: object
    place: Place | None


def fold_once(limit: int | None = None) -> int:
    """Fold the oldest pending events (at most `limit`); how many were taken."""
    limit = limit or settings.PAVIOR_FOLD_BATCH
    with between_processes(), transaction.atomic():
        rows = list(
            PendingEvent.objects.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list(
                "id",
                "person_id",
                "message_id",
                "type",
                "website",
                "at",
                "received_at",
                "data",
                "city",
                "country",
            )[:limit]
        )
        if not rows:
            return 0
        by_person: dict[int, list[_Item]] = defaultdict(list)
        for pk, person_id, message_id, type_, website, at, received_at, data, city, country in rows:
            event = Event(message_id=message_id, type=type_, at=at, website=website, data=data)
            place = Place(city, country) if city or country else None
            by_person[person_id].append(_Item(pk, event, received_at, place))
        people = lock_people_by_id(sorted(by_person))  # an erased user's events are dropped
        _apply(people, by_person)
        _delete([row[0] for row in rows])
    return len(rows)


def _apply(people: dict[int, Person], by_person: dict[int, list[_Item]]) -> None:
    stored = [
        (person.workspace_id, person.pk, item.event, item.received_at)
        for person_id, items in by_person.items()
        if (person := people.get(person_id)) is not None
        for item in items
    ]
    inserted = insert_raw_events(stored, folding=True)  # type: ignore[arg-type]
    changed: list[Person] = []
    for person_id, items in by_person.items():
        person = people.get(person_id)
        if person is None:
            continue
        fresh = [i for i in items if (person.workspace_id, i.event.message_id) in inserted]
        if not fresh:
            continue
        # The place of the user's newest website event that had one (a lookup
        # that found nothing keeps the old value, as inline) and is no older
        # than their last visit (a late event's place is not the newest).
        last = person.last_seen_at
        placed = [
            i for i in fresh if i.event.website and i.place and (last is None or i.event.at >= last)
        ]
        place = max(placed, key=lambda i: (i.event.at, i.id)).place if placed else None
        if derive(person, [i.event for i in fresh], place):
            changed.append(person)
    update_derived(changed)


def _delete(ids: list[int]) -> None:
    table = PendingEvent._meta.db_table
    with connection.cursor() as cur:
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            marks = ",".join(["%s"] * len(chunk))
            cur.execute(f"DELETE FROM {table} WHERE id IN ({marks})", chunk)


def fold_all() -> int:
    """Fold until nothing is pending (`pavior recompute`, tests); how many."""
    total = 0
    while taken := fold_once():
        total += taken
    return total


def run(stop: threading.Event) -> None:
    """The folder's loop: fold while there is work, else wait a moment."""
    while not stop.is_set():
        try:
            taken = fold_once()
        except DatabaseError:
            log.warning("folding pending events failed; retrying", exc_info=True)
            connection.close()  # a fresh connection rather than a possibly broken one
            stop.wait(1)
            continue
        except Exception:  # never let the folder die: the events stay pending
            log.exception("folding pending events failed unexpectedly")
            stop.wait(1)
            continue
        if taken < settings.PAVIOR_FOLD_BATCH:
            stop.wait(IDLE_WAIT_SECONDS)
    connection.close()


def start_threads() -> tuple[list[threading.Thread], threading.Event]:
    """Run PAVIOR_FOLDERS folders beside the worker's other jobs; set the event
    to stop them. Several help on PostgreSQL, where each waits on the database
    for most of a fold and SKIP LOCKED gives each its own rows; on SQLite they
    would only take turns."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=run, args=(stop,), name=f"pavior-folder-{n}", daemon=True)
        for n in range(settings.PAVIOR_FOLDERS)
    ]
    for thread in threads:
        thread.start()
    return threads, stop
