"""Which live in-site messages a user may be shown: their candidates (SPEC §12).

The browser learns a user's candidates (id, kind, live rules) from the
tracking responses it already gets, with a version stamp so an unchanged
set costs nothing; it evaluates the live rules itself and asks `show` when
they hold. The server checks the audience again then (`audience_matches`).

Deciding one user's candidates is on every tracking response, so it is done
in memory, cached at two levels:

- **The workspace's live messages**, their audiences parsed and compiled once
  (`pavior.core.matching`, proved equal to the SQL filter), kept in this
  process under the workspace's *version*: a counter in the shared cache that
  moves when any message of the workspace changes (`messages_changed`, called
  by the message actions) or any segment does (segments' `segment_changed`
  hook, subscribed in messaging/apps.py). A change of the workspace's time
  zone recompiles too (it is part of what was compiled).
- **One user's matches**, in the shared cache: the ids of the messages whose
  audience the user is in, the messages already shown to them, and the values
  of every attribute the audiences read. The entry is used while the
  workspace version is the same and those values are the ones the user has
  now, so a change to an attribute an audience reads (from any door: API,
  import, tracking) recomputes it, and a change to any other does not. An
  audience with "N days ago" also expires the entry after `RELATIVE_TTL`
  seconds, since time alone moves it. `people.hooks.user_changed` drops the
  entry too, and whatever records a display must call `forget_user` so the
  shown message leaves the list.

The schedule (starts_at/ends_at) is checked on every call, against the clock.
"""

from __future__ import annotations

import hashlib
import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import caches
from django.db.models import Q
from django.utils import timezone

from pavior.core import clock
from pavior.core.errors import PaviorError
from pavior.core.filters import parse_filter, referenced_attributes
from pavior.core.matching import Dialect, Matcher, compile_matcher, uses_now
from pavior.messaging.models import Message
from pavior.people.hooks import UserChanged
from pavior.people.models import Person
from pavior.people.queries import BUILTIN_COLUMNS, attribute_lookup
from pavior.people.values import database_dialect, person_values
from pavior.segments.hooks import SegmentChanged
from pavior.segments.queries import filtered_people
from pavior.segments.saved import parse_workspace_filter, segment_resolver
from pavior.workspaces.models import Workspace

log = logging.getLogger(__name__)

# How long a user's matches stand when an audience counts days back from now.
RELATIVE_TTL = 60.0
# A user's cached matches are dropped after this long unused (seconds).
USER_ENTRY_TIMEOUT = 24 * 3600


@dataclass(frozen=True)
class Candidates:
    """A user's candidate messages now, and a stamp that changes when they do."""

    version: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    # Whether any in-site message was shown to the user (their panel has one):
    # the bubble's launcher then stays, with or without candidates.
    shown_any: bool = False


# --- the workspace version -------------------------------------------------------------


def _cache() -> Any:
    return caches["candidates"]


def _version_key(workspace_id: int) -> str:
    return f"pavior:messages-version:{workspace_id}"


def _user_key(workspace_id: int, person_id: int) -> str:
    return f"pavior:candidates:{workspace_id}:{person_id}"


def workspace_version(workspace_id: int) -> int:
    value = _cache().get(_version_key(workspace_id))
    if value is None:
        _cache().add(_version_key(workspace_id), 1, timeout=None)
        value = _cache().get(_version_key(workspace_id)) or 1
    return int(value)


def messages_changed(workspace_id: int) -> None:
    """A message of the workspace changed: every user's candidates are recomputed."""
    try:
        _cache().incr(_version_key(workspace_id))
    except ValueError:
        _cache().add(_version_key(workspace_id), 2, timeout=None)


def segment_changed(event: SegmentChanged) -> None:
    """Subscribed to segments.hooks.segment_changed: audiences may name the segment."""
    messages_changed(event.workspace_id)


def user_changed(event: UserChanged) -> None:
    """Subscribed to people.hooks.user_changed: the user's entry is recomputed."""
    forget_user(event.workspace_id, event.person_id)


def forget_user(workspace_id: int, person_id: int) -> None:
    """Drop one user's cached matches: call it after recording a display, so the
    shown message is no longer a candidate."""
    _cache().delete(_user_key(workspace_id, person_id))


# --- the workspace's live messages, compiled -----------------------------------------


@dataclass(frozen=True)
class _Live:
    id: int
    form: dict[str, Any]
    starts_at: datetime | None
    ends_at: datetime | None
    matcher: Matcher


@dataclass(frozen=True)
class _Compiled:
    # (workspace app id, version, time zone): users' entries are good for this
    # stamp only (an id reused by a new workspace never meets the old one's).
    version: tuple[str, int, str]
    dialect: Dialect
    messages: tuple[_Live, ...]
    by_id: dict[int, _Live]
    # API names every audience reads, and the Person fields holding them.
    reads: tuple[str, ...]
    relative: bool  # some audience counts days back from now
    # Candidates by the ids they hold (their stamp hashed once).
    answers: dict[tuple[int, ...], Candidates] = field(default_factory=dict)


_compiled: dict[int, _Compiled] = {}


def live_in_app_messages(workspace: Workspace, now: datetime | None = None) -> list[Message]:
    now = now or timezone.now()
    return list(
        Message.objects.filter(
            workspace=workspace,
            channel=Message.Channel.IN_APP,
            status=Message.Status.LIVE,
        )
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("id")
    )


def _nobody(values: Any, now: datetime) -> bool:
    return False


def _compile(workspace: Workspace, version: int) -> _Compiled:
    """Every live in-site message not yet ended (those still to start are kept:
    the schedule is checked per call), its audience compiled."""
    now = clock.now()
    rows = (
        Message.objects.filter(
            workspace=workspace, channel=Message.Channel.IN_APP, status=Message.Status.LIVE
        )
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .only("id", "kind", "rules", "audience", "starts_at", "ends_at")
        .order_by("id")
    )
    tz_name = workspace.timezone or "UTC"
    tz = _zone(workspace)
    dialect = database_dialect()
    lookup = attribute_lookup(workspace)
    resolver = segment_resolver(workspace)
    live: list[_Live] = []
    reads: set[str] = set()
    relative = False
    for m in rows:
        try:
            node = parse_filter(m.audience or None, lookup, segments=resolver)
        except PaviorError as exc:
            # Saved valid; no longer (a segment it names changed since): nobody
            # matches until it is fixed, rather than everybody.
            log.warning("message %s: audience no longer valid: %s", m.pk, exc.message)
            live.append(_Live(m.pk, candidate_form(m), m.starts_at, m.ends_at, _nobody))
            continue
        reads |= referenced_attributes(node)
        relative = relative or uses_now(node)
        matcher = compile_matcher(node, tz, dialect=dialect)
        live.append(_Live(m.pk, candidate_form(m), m.starts_at, m.ends_at, matcher))
    return _Compiled(
        (workspace.app_id, version, tz_name),
        dialect,
        tuple(live),
        {m.id: m for m in live},
        tuple(sorted(reads)),
        relative,
    )


def _compiled_for(workspace: Workspace, version: int) -> _Compiled:
    found = _compiled.get(workspace.pk)
    stamp = (workspace.app_id, version, workspace.timezone or "UTC")
    if found is None or found.version != stamp:
        found = _compiled[workspace.pk] = _compile(workspace, version)
    return found


def compiled_count() -> int:
    """How many workspaces this process holds compiled (for tests and the bench)."""
    return len(_compiled)


def clear_compiled() -> None:
    _compiled.clear()


# --- one user --------------------------------------------------------------------------


def audience_matches(workspace: Workspace, message: Message, person: Person) -> bool:
    """Whether the user is in the message's audience now (`show` re-checks it).

    In memory, from the row in hand: `pavior.core.matching` gives the SQL
    filter's answer (proved user for user by a property test), without one
    query per message over the workspace's people.
    """
    node = parse_workspace_filter(workspace, message.audience or None)
    if node is None:
        return True
    matcher = compile_matcher(node, _zone(workspace), dialect=database_dialect())
    return matcher(person_values(person), clock.now())


def audience_matches_sql(workspace: Workspace, message: Message, person: Person) -> bool:
    """The same question asked of the database (the reference the tests hold to)."""
    node = parse_workspace_filter(workspace, message.audience or None)
    if node is None:
        return True
    qs, _ = filtered_people(workspace, node)
    return qs.filter(pk=person.pk).exists()


def _zone(workspace: Workspace) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(workspace.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def candidate_form(message: Message) -> dict[str, Any]:
    """What the browser needs to decide when to ask: no content (that comes with show)."""
    return {"id": message.pk, "kind": message.kind, "rules": message.rules or None}


def _read(person: Person, names: tuple[str, ...]) -> tuple[Any, ...]:
    # `custom` only when a custom attribute is read: the intake's person may not
    # have it loaded (see cached_candidates).
    custom = person.custom if any(n not in BUILTIN_COLUMNS for n in names) else None
    custom = custom if isinstance(custom, dict) else {}
    return tuple(
        getattr(person, BUILTIN_COLUMNS[n]) if n in BUILTIN_COLUMNS else custom.get(n)
        for n in names
    )


def _columns(names: tuple[str, ...]) -> set[str]:
    """The Person fields _read reads for these attributes."""
    return {BUILTIN_COLUMNS.get(n, "custom") for n in names}


def _shown(person: Person) -> frozenset[int]:
    from pavior.messaging.models import Delivery

    return frozenset(
        Delivery.objects.filter(person=person, message__channel=Message.Channel.IN_APP).values_list(
            "message_id", flat=True
        )
    )


def _current(
    cached: tuple[Any, ...], compiled: _Compiled, seen: tuple[Any, ...], stamp: float
) -> bool:
    """Whether a user's entry stands: same version, same values read, not expired."""
    return (
        cached[0] == compiled.version
        and cached[1] == seen
        and (cached[2] is None or stamp < cached[2])
    )


def _matches(
    workspace: Workspace, person: Person, compiled: _Compiled, cached: Any, now: datetime
) -> tuple[tuple[int, ...], frozenset[int]]:
    """(ids of the messages whose audience the user is in, ids shown to them)."""
    seen = _read(person, compiled.reads)
    stamp = now.timestamp()
    entry_ok = isinstance(cached, tuple) and len(cached) == 5
    if entry_ok and _current(cached, compiled, seen, stamp):
        return cached[3], cached[4]
    values = person_values(person)
    matched = tuple(m.id for m in compiled.messages if m.matcher(values, now))
    # Any entry of this workspace still holds the shown ids: recording a
    # display drops the entry (forget_user).
    same_workspace = entry_ok and cached[0][0] == compiled.version[0]
    shown = cached[4] if same_workspace else _shown(person)
    expires = stamp + RELATIVE_TTL if compiled.relative else None
    entry = (compiled.version, seen, expires, matched, shown)
    _cache().set(_user_key(workspace.pk, person.pk), entry, USER_ENTRY_TIMEOUT)
    return matched, shown


def _answer(
    workspace: Workspace, person: Person, compiled: _Compiled, cached: Any, now: datetime
) -> Candidates:
    matched, shown = _matches(workspace, person, compiled, cached, now)
    ids = []
    for message_id in matched:
        m = compiled.by_id[message_id]
        if message_id in shown:
            continue
        if (m.starts_at is not None and m.starts_at > now) or (
            m.ends_at is not None and m.ends_at <= now
        ):
            continue
        ids.append(message_id)
    key = tuple(ids)
    # Many users share a set: its stamp is worked out once per compiled version.
    answer = compiled.answers.get(key)
    if answer is None:
        found = [compiled.by_id[i].form for i in key]
        digest = hashlib.sha256(repr(found).encode()).hexdigest()[:16]
        answer = Candidates(version=digest, messages=found)
        if len(compiled.answers) < 10_000:
            compiled.answers[key] = answer
    return Candidates(answer.version, list(answer.messages), shown_any=bool(shown))


def candidates_for(workspace: Workspace, person: Person) -> Candidates:
    """The live in-site messages this user is in the audience of, not yet shown to them."""
    version_key, user_key = _version_key(workspace.pk), _user_key(workspace.pk, person.pk)
    got = _cache().get_many([version_key, user_key])
    version = got.get(version_key)
    if version is None:
        version = workspace_version(workspace.pk)
    compiled = _compiled_for(workspace, int(version))
    return _answer(workspace, person, compiled, got.get(user_key), clock.now())


def cached_candidates(workspace: Workspace, person: Person) -> Candidates | None:
    """`candidates_for`'s answer when it needs no database, else None (then call
    `candidates_for` where blocking is fine).

    It needs none when this process holds the workspace's audiences compiled
    at the current version and the cache holds an entry for the user (their
    matches are worked out again in memory if the values the audiences read
    moved). Only the cache is read (and written back on such a change).
    """
    version_key, user_key = _version_key(workspace.pk), _user_key(workspace.pk, person.pk)
    got = _cache().get_many([version_key, user_key])
    version, cached = got.get(version_key), got.get(user_key)
    compiled = _compiled.get(workspace.pk)
    if version is None or compiled is None:
        return None
    if compiled.version != (workspace.app_id, int(version), workspace.timezone or "UTC"):
        return None
    if not (isinstance(cached, tuple) and len(cached) == 5 and cached[0][0] == workspace.app_id):
        return None  # the user's shown messages are read from the database
    now = clock.now()
    deferred = person.get_deferred_fields()
    if deferred:
        # The intake's person has only the tracking columns loaded (tracking.rows):
        # reading another is a query, which the event loop may not make
        # (SynchronousOnlyOperation). Answer only from an entry that needs none.
        if _columns(compiled.reads) & deferred:
            return None
        if not _current(cached, compiled, _read(person, compiled.reads), now.timestamp()):
            return None  # recomputing reads every value
    return _answer(workspace, person, compiled, cached, now)
