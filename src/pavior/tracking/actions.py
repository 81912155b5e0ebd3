"""Recording website activity, one user's batch at a time (SPEC §3, §5, §6).

A batch is stored and applied whole (in its own savepoint of the group-commit
writer's transaction, pavior.tracking.writer), and acknowledged only after it
is committed: raw events are inserted once per (workspace, message_id), the
derived attributes move forward with them (or are recomputed from the raw
events when one arrives late), and init/update attributes are written one by
one so that a refused attribute is reported without losing the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pavior.core.activity import valid_activity_type
from pavior.core.attributes import Trust, infer_type
from pavior.core.errors import Conflict, InvalidValue, PaviorError
from pavior.core.identity import Proof, unverified_call_refused
from pavior.core.profile import prepare_write
from pavior.core.visits import VisitState, advance, recompute
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.models import Person
from pavior.people.queries import attribute_lookup
from pavior.tracking import live
from pavior.tracking.geoip import Place
from pavior.tracking.lookup import identity_secrets
from pavior.tracking.models import RawEvent
from pavior.tracking.rows import insert_raw_events, lock_people, update_derived
from pavior.tracking.user_jwt import prove
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
    user_jwt: str | None = None
    # Set by check_identity from what the call proved (SPEC §6): the email a
    # hash or a signed claim vouches for, and attributes the user_jwt signed.
    proven_email: str | None = None
    signed: dict[str, Any] = field(default_factory=dict)

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


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    verified: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    person: Person | None = None
    fresh: list[Event] = field(default_factory=list)  # the events stored for the first time


def verify(workspace: Workspace, identity: Identity, trust: Trust) -> Proof:
    """What this call proves about who the user is (a secret key proves everything)."""
    if trust is not Trust.BROWSER:
        return Proof(verified=True, email=identity.email)
    if workspace.identity_verification == IdentityVerification.OFF:
        return Proof(verified=False, problem="verification off")
    return prove(
        identity_secrets(workspace),
        identity.user_id,
        identity.email,
        user_hash=identity.user_hash,
        user_jwt=identity.user_jwt,
    )


def check_identity(workspace: Workspace, identity: Identity, trust: Trust) -> bool:
    """Whether the call is verified; IdentityRefused when it must be and is not.

    Records on `identity` what the call proved: the proven email (the only
    one a browser call may attach an existing user by) and, for a valid
    user_jwt, its email claim and signed attributes.
    """
    if not identity.key:
        raise InvalidValue("The batch needs the user's id or email", field="user.id")
    proof = verify(workspace, identity, trust)
    required = workspace.identity_verification == IdentityVerification.REQUIRED
    if trust is Trust.BROWSER and required and not proof.verified:
        raise IdentityRefused(
            f"This workspace requires identity verification and the call has {proof.problem}; "
            "nothing was recorded",
            field="user_jwt" if identity.user_jwt is not None else "user_hash",
        )
    if proof.verified:
        identity.email = identity.email or proof.claimed_email
        identity.proven_email = proof.email
        identity.signed = proof.attributes
    return proof.verified


def admit(workspace: Workspace, person: Person, trust: Trust, verified: bool) -> None:
    """Refuse an unverified browser call for a user verified before (SPEC §6);
    mark the user verified the first time a verified browser call arrives."""
    user_verified = person.verified_at is not None
    mode = workspace.identity_verification
    if unverified_call_refused(mode, trust, verified, user_verified):
        raise IdentityRefused(
            "This user has been verified before, so calls for them need a valid user_hash "
            "or user_jwt; nothing was recorded",
            field="user_hash",
        )
    if verified and trust is Trust.BROWSER and not user_verified:
        person.verified_at = timezone.now()
        person.save(update_fields=["verified_at", "updated_at"])


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
    """Store a batch of one user's events and apply them; see the module doc.

    The caller (the group-commit writer, pavior.tracking.writer) holds the
    transaction, has checked the identity (check_identity gives `verified`)
    and calls publish_live only once the batch is committed."""
    result = IngestResult(verified=verified)
    person = None
    if only_derived(events):
        # The common batch (page views, heartbeats of a known user) needs only
        # the derived columns: one plain SELECT … FOR UPDATE instead of the ORM.
        assert identity.key is not None
        person = lock_people(workspace.pk, [identity.key]).get(identity.key)
    if person is None:
        person = _find_or_create(workspace, identity, trust, result)
    admit(workspace, person, trust, verified)
    new = _insert_new(workspace, person, events, received_at)
    result.accepted = len(new)
    result.duplicates = len(events) - len(new)
    fresh = [e for e in events if e.message_id in new]
    person = _apply_attributes(workspace, person, identity, fresh, trust, verified, result)
    _apply_derived(person, fresh, place)
    result.person = person
    result.fresh = fresh
    return result


def only_derived(events: Iterable[Event]) -> bool:
    """Whether the batch moves only the derived columns (no attribute to write,
    no stated place): such a batch of a known user needs no ORM instance."""
    return not any(e.type in ATTRIBUTE_EVENTS for e in events)


def publish_live(workspace: Workspace, result: IngestResult) -> None:
    """Fold the committed batch into the live attributes (a cache, not the database)."""
    publish_live_all([(workspace, result)])


def publish_live_all(committed: Sequence[tuple[Workspace, IngestResult]]) -> None:
    """publish_live for every committed batch of a flush, in one cache update."""
    updates = []
    for workspace, result in committed:
        person = result.person
        if person is None:
            continue
        # `hide` is no website event (it moves no visit or time) but ends the live state.
        website = [(e.at, e.type, e.url) for e in result.fresh if e.website or e.type == live.HIDE]
        ended = any(e.type == "shutdown" for e in result.fresh)
        if website or ended:
            updates.append((workspace.pk, person.external_id, website, ended))
    if updates:
        live.record_live_many(updates)


def _find_or_create(
    workspace: Workspace, identity: Identity, trust: Trust, result: IngestResult
) -> Person:
    people = Person.objects.select_for_update().filter(workspace=workspace)
    person = people.filter(external_id=identity.key).first()
    if person is None:
        values = {k: v for k, v in (("id", identity.user_id), ("email", identity.email)) if v}
        # upsert_user finds an email-only user this id upgrades, or creates one;
        # from the browser only by a proven email (SPEC §6).
        written = upsert_user(workspace, values, trust=trust, proven_email=identity.proven_email)
        _warn(result, None, written.warnings)
        person = written.person
    return person


def _warn(result: IngestResult, message_id: str | None, warnings: list[PaviorError]) -> None:
    """Add upsert_user's warnings to the answer, each once per batch."""
    for w in warnings:
        if not any(x["field"] == w.field and x["code"] == w.code for x in result.warnings):
            result.warnings.append(
                {"message_id": message_id, "field": w.field, "code": w.code, "message": w.message}
            )


def _insert_new(
    workspace: Workspace, person: Person, events: list[Event], received_at: datetime
) -> set[str]:
    """Insert the events not stored yet; the message ids actually inserted."""
    rows = [(workspace.pk, person.pk, e, received_at) for e in events]
    return {message_id for _, message_id in insert_raw_events(rows)}


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
        if event.type == "init":
            attrs.update(identity.signed)  # signed by the site: they win over the page's
            if identity.email and "email" not in attrs:
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
                written = upsert_user(
                    workspace,
                    values,
                    trust=trust,
                    lookup=lookup,
                    proven_email=identity.proven_email,
                )
                person = written.person
                _warn(result, event.message_id, written.warnings)
            except PaviorError as e:  # a rule only the whole write can check
                result.errors.append(_error(event, e.field, e.code, e.message))
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
    if derive(person, events, place):
        update_derived([person])


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
