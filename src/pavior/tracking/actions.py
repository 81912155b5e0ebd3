"""Recording website activity: one transaction per batch (SPEC §3, §5, §6).

A batch is stored and applied whole, and acknowledged only after it is
committed: raw events are inserted once per (workspace, message_id), the
derived attributes move forward with them (or are recomputed from the raw
events when one arrives late), and init/update attributes are written one by
one so that a refused attribute is reported without losing the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pavior.core.activity import valid_activity_type
from pavior.core.attributes import Trust, infer_type
from pavior.core.errors import Conflict, InvalidValue, PaviorError
from pavior.core.identity import verify_user_hash
from pavior.core.profile import prepare_write
from pavior.core.visits import VisitState, advance, recompute
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.models import Person
from pavior.people.queries import attribute_lookup
from pavior.tracking import live
from pavior.tracking.geoip import Place
from pavior.tracking.lookup import identity_secrets
from pavior.tracking.models import RawEvent
from pavior.workspaces.models import IdentityVerification, Workspace

ATTRIBUTE_EVENTS = frozenset({"init", "update", "identify"})


class IdentityRefused(PaviorError):
    code = "identity_verification_failed"
    status = 403


@dataclass
class Identity:
    user_id: str | None = None
    email: str | None = None
    user_hash: str | None = None

    @property
    def key(self) -> str | None:
        """What the user_hash is computed over: the id, else the email."""
        return self.user_id or self.email


@dataclass
class Event:
    message_id: str
    type: str
    at: datetime  # server time, skew already corrected
    website: bool = True
    url: str | None = None
    attributes: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    place: Place | None = None  # a city/country the caller states (Segment's address)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    verified: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    person: Person | None = None
    fresh: list[Event] = field(default_factory=list)  # the events stored for the first time


def is_verified(workspace: Workspace, identity: Identity, trust: Trust) -> bool:
    """Whether this call proves who the user is (a secret key always does)."""
    if trust is not Trust.BROWSER:
        return True
    if workspace.identity_verification == IdentityVerification.OFF:
        return False
    if not identity.user_hash or not identity.key:
        return False
    return verify_user_hash(identity_secrets(workspace), identity.key, identity.user_hash)


def check_identity(workspace: Workspace, identity: Identity, trust: Trust) -> bool:
    """Whether the call is verified; IdentityRefused when it must be and is not."""
    if not identity.key:
        raise InvalidValue("The batch needs the user's id or email", field="user.id")
    verified = is_verified(workspace, identity, trust)
    required = workspace.identity_verification == IdentityVerification.REQUIRED
    if trust is Trust.BROWSER and required and not verified:
        what = "an invalid" if identity.user_hash else "no"
        raise IdentityRefused(
            f"This workspace requires identity verification and the call has {what} "
            "user_hash; nothing was recorded",
            field="user_hash",
        )
    return verified


def ingest(
    workspace: Workspace,
    identity: Identity,
    events: list[Event],
    *,
    trust: Trust,
    received_at: datetime,
    place: Place | None = None,
) -> IngestResult:
    """Store a batch of one user's events and apply them; see the module doc."""
    verified = check_identity(workspace, identity, trust)
    with transaction.atomic():
        result = store(
            workspace,
            identity,
            events,
            trust=trust,
            received_at=received_at,
            place=place,
            verified=verified,
        )
    publish_live(workspace, result)
    return result


def store(
    workspace: Workspace,
    identity: Identity,
    events: list[Event],
    *,
    trust: Trust,
    received_at: datetime,
    place: Place | None,
    verified: bool,
) -> IngestResult:
    """The batch's writes; the caller holds the transaction (one per batch, or
    one per group of batches in the group-commit writer) and calls
    publish_live only once it is committed."""
    result = IngestResult(verified=verified)
    person = None
    if not any(e.type in ATTRIBUTE_EVENTS or e.place is not None for e in events):
        # The common batch (page views, heartbeats of a known user) needs only
        # the derived columns: one plain SELECT … FOR UPDATE instead of the ORM.
        assert identity.key is not None
        person = lock_known_person(workspace, identity.key)
    if person is None:
        person = _find_or_create(workspace, identity, trust)
    new = _insert_new(workspace, person, events, received_at)
    result.accepted = len(new)
    result.duplicates = len(events) - len(new)
    fresh = [e for e in events if e.message_id in new]
    person = _apply_attributes(workspace, person, identity, fresh, trust, verified, result)
    _apply_derived(person, fresh, place)
    result.person = person
    result.fresh = fresh
    return result


def publish_live(workspace: Workspace, result: IngestResult) -> None:
    """Fold the committed batch into the live attributes (a cache, not the database)."""
    person = result.person
    if person is None:
        return
    website = [(e.at, e.type, e.url) for e in result.fresh if e.website]
    if website:
        live.record_live(workspace.pk, person.external_id, website)
    if any(e.type == "shutdown" for e in result.fresh):
        live.forget_live(workspace.pk, person.external_id)


def _find_or_create(workspace: Workspace, identity: Identity, trust: Trust) -> Person:
    people = Person.objects.select_for_update().filter(workspace=workspace)
    person = people.filter(external_id=identity.key).first()
    if person is None:
        values = {k: v for k, v in (("id", identity.user_id), ("email", identity.email)) if v}
        # upsert_user finds an email-only user this id upgrades, or creates one.
        person = upsert_user(workspace, values, trust=trust).person
    return person


# What _apply_derived and publish_live read; the rest of the row is left
# deferred. In the model's column order: Model.from_db expects that order.
# The columns tracking changes (bulk.py writes exactly these).
UPDATED = (
    "total_visits",
    "total_time_spent",
    "last_seen_at",
    "last_activity_at",
    "city",
    "country",
)
_WANTED = {"id", "workspace_id", "external_id", *UPDATED}
DERIVED_FIELDS = [f.attname for f in Person._meta.concrete_fields if f.attname in _WANTED]
DATETIMES = [i for i, n in enumerate(DERIVED_FIELDS) if n in ("last_seen_at", "last_activity_at")]


def lock_known_person(workspace: Workspace, key: str) -> Person | None:
    """The user's row with only the derived columns, locked; None if they are new."""
    table = Person._meta.db_table
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    sql = (
        f"SELECT {', '.join(DERIVED_FIELDS)} FROM {table} "
        f"WHERE workspace_id = %s AND external_id = %s{lock}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [workspace.pk, key])
        row = cur.fetchone()
    return None if row is None else person_from_row(row)


def person_from_row(row: Any) -> Person:
    """A Person from a SELECT of DERIVED_FIELDS (the other columns deferred)."""
    values = list(row)
    for i in DATETIMES:  # SQLite hands datetimes back naive (or as text)
        value = values[i]
        values[i] = _aware(parse_datetime(value) if isinstance(value, str) else value)
    return Person.from_db(connection.alias, DERIVED_FIELDS, values)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def column(name: str) -> models.Field[Any, Any]:
    """A concrete Person field (get_field's type also allows relations)."""
    field = Person._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _save_fields(person: Person, fields: Iterable[str]) -> None:
    """person.save(update_fields=…) as one plain UPDATE (no signals are attached
    to Person; the ORM's save machinery cost more than the statement)."""
    person.updated_at = timezone.now()
    names = [*sorted(fields), "updated_at"]
    values = [column(n).get_db_prep_save(getattr(person, n), connection) for n in names]
    sets = ", ".join(f"{connection.ops.quote_name(n)} = %s" for n in names)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {Person._meta.db_table} SET {sets} WHERE id = %s", [*values, person.pk]
        )


def _insert_new(
    workspace: Workspace, person: Person, events: list[Event], received_at: datetime
) -> set[str]:
    """Insert the events not stored yet; the message ids actually inserted."""
    rows = [(workspace.pk, person.pk, e, received_at) for e in events]
    return {message_id for _, message_id in insert_raw_events(rows)}


# Rows per INSERT: 8 parameters each stays far below SQLite's and PostgreSQL's limits.
INSERT_CHUNK = 500


def insert_raw_events(rows: list[tuple[int, int, Event, datetime]]) -> set[tuple[int, str]]:
    """Insert (workspace_id, person_id, event, received_at) rows not stored yet;
    the (workspace_id, message_id) pairs actually inserted.

    ON CONFLICT DO NOTHING RETURNING (PostgreSQL, SQLite >= 3.35) makes the
    deduplication one statement that two concurrent retries cannot both win.
    """
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        return _insert_raw_events_pg(rows)
    # SQLite: the raw sqlite3 cursor with its own placeholders, since Django's
    # wrapper rewrote the %s of every long statement with a regex; datetimes
    # as Django stores them (naive UTC text), without its per-value checks.
    adapt = (
        _sqlite_datetime
        if connection.timezone_name == "UTC"
        else connection.ops.adapt_datetimefield_value
    )
    table = RawEvent._meta.db_table
    one = "(?,?,?,?,?,?,?,?)"
    inserted: set[tuple[int, str]] = set()
    received: dict[datetime, Any] = {}
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        params: list[Any] = []
        for workspace_id, person_id, e, received_at in chunk:
            if received_at not in received:
                received[received_at] = adapt(received_at)
            data = None if e.data is None else json_document(e.data)
            params += [
                workspace_id,
                person_id,
                e.message_id,
                e.type,
                e.website,
                adapt(e.at),
                received[received_at],
                data,
            ]
        sql = (
            f"INSERT INTO {table} (workspace_id, person_id, message_id, type, website, at, "
            f"received_at, data) VALUES {','.join([one] * len(chunk))} "
            "ON CONFLICT (workspace_id, message_id) DO NOTHING RETURNING workspace_id, message_id"
        )
        connection.ensure_connection()
        with connection.wrap_database_errors:
            cur = connection.connection.cursor()
            try:
                cur.execute(sql, params)
                inserted.update((r[0], r[1]) for r in cur.fetchall())
            finally:
                cur.close()
    return inserted


def _sqlite_datetime(value: datetime) -> str:
    """DatabaseOperations.adapt_datetimefield_value of SQLite with a UTC connection."""
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _insert_raw_events_pg(rows: list[tuple[int, int, Event, datetime]]) -> set[tuple[int, str]]:
    """insert_raw_events on PostgreSQL: the rows travel as one JSON document.

    The statement text stays short and fixed (psycopg parses it once), and
    json.dumps builds the parameter in C, where a VALUES list of hundreds of
    rows or array parameters were quoted value by value in Python: that was
    most of the writer's time for 50-event batches.
    """
    doc = [
        {
            "w": workspace_id,
            "p": person_id,
            "m": e.message_id,
            "t": e.type,
            "s": e.website,
            "a": e.at,
            "r": received_at,
            "d": e.data,
        }
        for workspace_id, person_id, e, received_at in rows
    ]
    sql = (
        f"INSERT INTO {RawEvent._meta.db_table} (workspace_id, person_id, message_id, type, "
        "website, at, received_at, data) SELECT w, p, m, t, s, a, r, d "
        "FROM json_to_recordset(%s::json) AS u(w bigint, p bigint, m text, t text, s boolean, "
        "a timestamptz, r timestamptz, d jsonb) "
        "ON CONFLICT (workspace_id, message_id) DO NOTHING RETURNING workspace_id, message_id"
    )
    rows_in = pg_execute(sql, [json_document(doc)])
    return {(r[0], r[1]) for r in rows_in}


def json_document(value: Any) -> str:
    """A JSON parameter for PostgreSQL (datetimes as RFC 3339).

    orjson is several times faster than json.dumps here, where it ran for
    every stored event; values it refuses (integers past 64 bits) fall back to
    json.dumps, so what can be stored does not depend on the encoder.
    """
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=_isoformat)


def _isoformat(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def pg_execute(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run one of the intake's fixed statements as a prepared statement (PostgreSQL).

    Django's cursors bind client-side and never prepare, so PostgreSQL parsed
    and planned each statement of every flush again; these few statements
    never change their text, so preparing them once per connection saves that.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=True)
        return cur.fetchall() if cur.description else []


def _apply_attributes(
    workspace: Workspace,
    person: Person,
    identity: Identity,
    events: list[Event],
    trust: Trust,
    verified: bool,
    result: IngestResult,
) -> Person:
    writes = sorted((e for e in events if e.type in ATTRIBUTE_EVENTS), key=lambda e: e.at)
    if not writes:
        return person
    lookup = attribute_lookup(workspace)
    guard_email = (
        trust is Trust.BROWSER
        and not verified
        and workspace.identity_verification != IdentityVerification.OFF
    )
    for event in writes:
        attrs = dict(event.attributes or {})
        if event.type == "init" and identity.email and "email" not in attrs:
            attrs["email"] = identity.email
        if guard_email and "email" in attrs and person.email and attrs["email"] != person.email:
            result.errors.append(
                _error(
                    event,
                    "email",
                    "unverified",
                    "email cannot be changed without a valid user_hash (identity verification)",
                )
            )
            del attrs["email"]
        values, lookup = _checked_values(workspace, attrs, lookup, trust, event, result)
        if values:
            values["id"] = person.external_id
            try:
                person = upsert_user(workspace, values, trust=trust, lookup=lookup).person
            except PaviorError as e:  # a rule only the whole write can check
                result.errors.append(_error(event, e.field, e.code, e.message))
        if event.place is not None:
            person.city = event.place.city or person.city
            person.country = event.place.country or person.country
            person.save(update_fields=["city", "country", "updated_at"])
        if verified and trust is Trust.BROWSER and event.type == "init" and not person.signed_up_at:
            person.signed_up_at = event.at
            person.save(update_fields=["signed_up_at", "updated_at"])
    # upsert_user saved a fresh copy; continue from the stored row.
    person.refresh_from_db()
    return person


def _checked_values(
    workspace: Workspace,
    attrs: dict[str, Any],
    lookup: Callable[[str], Any],
    trust: Trust,
    event: Event,
    result: IngestResult,
) -> tuple[dict[str, Any], Callable[[str], Any]]:
    """The attributes that may be written, each checked on its own."""
    values: dict[str, Any] = {}
    max_len = settings.PAVIOR_MAX_STRING_LENGTH
    for name, value in attrs.items():
        if name == "id":
            continue
        if lookup(name) is None and value is not None:
            if not workspace.snippet_creates_attributes:
                result.errors.append(
                    _error(
                        event,
                        name,
                        "unknown_attribute",
                        f'Unknown attribute "{name}": this workspace does not let the snippet '
                        "create attributes; create it in Pavior first",
                    )
                )
                continue
            try:
                create_attribute(workspace, name, infer_type(name, value))
            except Conflict:
                pass  # created meanwhile by a concurrent batch: use it
            except PaviorError as e:
                result.errors.append(_error(event, name, e.code, e.message))
                continue
            lookup = attribute_lookup(workspace)
        try:
            prepare_write({name: value}, lookup, trust=trust, max_string_length=max_len)
        except PaviorError as e:
            result.errors.append(_error(event, e.field or name, e.code, e.message))
            continue
        values[name] = value
    return values, lookup


def _error(event: Event, field: str | None, code: str, message: str) -> dict[str, Any]:
    return {"message_id": event.message_id, "field": field, "code": code, "message": message}


def _apply_derived(person: Person, events: list[Event], place: Place | None) -> None:
    """Move visits, time, last seen and last activity forward (SPEC §3)."""
    changed = derive(person, events, place)
    if changed:
        _save_fields(person, changed)


def derive(person: Person, events: list[Event], place: Place | None) -> set[str]:
    """_apply_derived on the instance only: the fields it changed, for the caller to save."""
    changed: set[str] = set()
    if not events:
        return changed
    site = sorted(e.at for e in events if e.website)
    if site:
        last = person.last_seen_at
        if last is None or site[0] >= last:
            state = VisitState(
                total_visits=person.total_visits,
                total_time_spent=person.total_time_spent,
                last_seen_at=last,
            )
            for at in site:
                state = advance(state, at)
        else:
            # A late event may split or join visits already counted.
            state = recompute(
                RawEvent.objects.filter(person=person, website=True).values_list("at", flat=True)
            )
        if place is not None and (last is None or site[-1] >= last):
            # GeoIP of the most recent visit; a lookup that found nothing keeps the old value.
            if place.city:
                person.city = place.city
            if place.country:
                person.country = place.country
            changed |= {"city", "country"}
        person.total_visits = state.total_visits
        person.total_time_spent = state.total_time_spent
        person.last_seen_at = state.last_seen_at
        changed |= {"total_visits", "total_time_spent", "last_seen_at"}
    newest = max(e.at for e in events)
    if person.last_activity_at is None or newest > person.last_activity_at:
        person.last_activity_at = newest
        changed.add("last_activity_at")
    return changed


# --- recompute -------------------------------------------------------------------------


def recompute_person(person: Person) -> None:
    """Rebuild the derived attributes of one user from their raw events."""
    with transaction.atomic():
        rows = list(RawEvent.objects.filter(person=person).values_list("at", "website"))
        if not rows:
            return
        state = recompute(at for at, website in rows if website)
        Person.objects.filter(pk=person.pk).update(
            total_visits=state.total_visits,
            total_time_spent=state.total_time_spent,
            last_seen_at=state.last_seen_at,
            last_activity_at=max(at for at, _ in rows),
        )


def recompute_people(people: Iterable[Person]) -> int:
    count = 0
    for person in people:
        recompute_person(person)
        count += 1
    return count


def recompute_workspaces(workspaces: Iterable[Workspace]) -> int:
    """Recompute every user with raw events in these workspaces; how many."""
    total = 0
    for ws in workspaces:
        ids = RawEvent.objects.filter(workspace=ws).values_list("person_id", flat=True).distinct()
        total += recompute_people(Person.objects.filter(pk__in=ids).iterator())
    return total


def append_activity(
    person: Person, activity_type: str, at: datetime, received_at: datetime
) -> None:
    """Keep a non-website activity in the raw events (called by tracking.activity)."""
    import uuid

    RawEvent.objects.create(
        workspace_id=person.workspace_id,
        person=person,
        message_id=f"activity-{uuid.uuid4()}",
        type=valid_activity_type(activity_type),
        website=False,
        at=at,
        received_at=received_at,
    )
