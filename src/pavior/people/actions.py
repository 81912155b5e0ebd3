"""Every change to people and attribute definitions: one function, one transaction.

The API, the snippet intake, the CSV import and the admin pages all call these,
so the rules of SPEC §2 and §4 hold whichever door a value comes through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pavior.core.attributes import (
    AttributeDef,
    AttrType,
    Trust,
    builtin,
    check_attribute_change,
    validate_custom_name,
    validate_custom_type,
)
from pavior.core.dates import to_epoch
from pavior.core.errors import Conflict, InvalidValue, LimitExceeded, NotFound, PaviorError
from pavior.core.identity import may_attach_by_email
from pavior.core.names import render_name
from pavior.core.profile import derive_names, merge_subscription, prepare_write
from pavior.people import hooks
from pavior.people.inserts import insert_people
from pavior.people.models import AttributeDefinition, Person
from pavior.people.queries import (
    BUILTIN_COLUMNS,
    attribute_lookup,
    builtin_lookup,
    custom_definition,
    deletable_definition,
    get_attribute,
)
from pavior.workspaces.models import Workspace

# --- attribute definitions ----------------------------------------------------------


def _lock_workspace(workspace: Workspace) -> None:
    """Serialise definition changes per workspace.

    PostgreSQL: a row lock. SQLite: transactions start IMMEDIATE (settings), so
    writers already queue; the SELECT costs nothing there.
    """
    Workspace.objects.select_for_update().filter(pk=workspace.pk).first()


def create_attribute(
    workspace: Workspace, name: object, type: object, *, browser_writable: bool = True
) -> AttributeDefinition:
    with transaction.atomic():
        _lock_workspace(workspace)
        existing = list(
            AttributeDefinition.objects.filter(workspace=workspace).values_list("name", flat=True)
        )
        if isinstance(name, str) and name in existing:
            raise Conflict(f'An attribute named "{name}" already exists', field="name")
        valid_name = validate_custom_name(name, existing)
        attr_type = validate_custom_type(valid_name, type)
        _check_capacity(workspace)
        try:
            with transaction.atomic():
                return AttributeDefinition.objects.create(
                    workspace=workspace,
                    name=valid_name,
                    type=attr_type.value,
                    browser_writable=browser_writable,
                )
        except IntegrityError as e:  # a concurrent create of the same name won
            raise Conflict(f'An attribute named "{valid_name}" already exists', field="name") from e


def _check_capacity(workspace: Workspace) -> None:
    limit = settings.PAVIOR_MAX_CUSTOM_ATTRIBUTES
    active = AttributeDefinition.objects.filter(workspace=workspace, archived=False).count()
    if active >= limit:
        raise LimitExceeded(
            f"This workspace already has {active} active custom attributes, the limit is "
            f"{limit}; archive one to free a slot",
            field="name",
        )


def update_attribute(
    workspace: Workspace,
    name: str,
    *,
    archived: bool | None = None,
    browser_writable: bool | None = None,
) -> AttributeDefinition:
    """Archive/restore a custom attribute, or lock it against browser writes."""
    if archived is not None:
        check_attribute_change(name, "archive" if archived else "restore")
    with transaction.atomic():
        _lock_workspace(workspace)
        d = custom_definition(workspace, name)
        if archived is False and d.archived:
            _check_capacity(workspace)  # restoring takes a slot back
        if archived is not None:
            d.archived = archived
        if browser_writable is not None:
            d.browser_writable = browser_writable
        d.save()
        return d


def change_attribute(
    workspace: Workspace,
    name: str,
    *,
    archived: bool | None = None,
    browser_writable: bool | None = None,
) -> AttributeDef:
    """Archive/restore or lock/unlock any attribute, built-in or custom.

    The one entry for the API's PATCH and the attributes page: what a kind of
    attribute never allows is refused by core.attributes.check_attribute_change.
    """
    if archived is not None:
        check_attribute_change(name, "archive" if archived else "restore")
    if browser_writable is not None:
        check_attribute_change(name, "unlock" if browser_writable else "lock")
    with transaction.atomic():
        if builtin(name) is None:
            update_attribute(workspace, name, archived=archived, browser_writable=browser_writable)
        elif browser_writable is not None:
            set_builtin_browser_writable(workspace, name, browser_writable)
        found = get_attribute(workspace, name)
    assert found is not None
    return found


def set_builtin_browser_writable(workspace: Workspace, name: str, writable: bool) -> None:
    check_attribute_change(name, "unlock" if writable else "lock")
    with transaction.atomic():
        ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
        locked = set(ws.locked_builtins or [])
        if writable:
            locked.discard(name)
        else:
            locked.add(name)
        ws.locked_builtins = sorted(locked)
        ws.save(update_fields=["locked_builtins"])
        workspace.locked_builtins = ws.locked_builtins


def delete_attribute(workspace: Workspace, name: str) -> None:
    """Delete a custom attribute and every value of it, in one transaction."""
    with transaction.atomic():
        _lock_workspace(workspace)
        d = deletable_definition(workspace, name)
        users = attribute_users(workspace, d.name)
        if users:
            raise Conflict(
                f"{render_name(d.name)} is in use: {'; '.join(users)}. "
                "Change or delete those first (archiving hides it without losing values)",
                field="name",
                code="attribute_in_use",
            )
        _remove_custom_key(workspace, d.name)
        d.delete()
        hooks.attribute_deleted.emit(hooks.AttributeDeleted(workspace.pk, d.name))


def attribute_users(workspace: Workspace, name: str) -> list[str]:
    """What uses a custom attribute (segments, messages), by the checks of packages above."""
    return [found for check in hooks.attribute_in_use_checks for found in check(workspace.pk, name)]


def _remove_custom_key(workspace: Workspace, name: str) -> None:
    # The name is a validated definition name and still travels as a bound
    # parameter, never as SQL text.
    table = Person._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"UPDATE {table} SET custom = custom - %s "
                "WHERE workspace_id = %s AND jsonb_exists(custom, %s)",
                [name, workspace.pk, name],
            )
        else:
            path = f'$."{name}"'
            cur.execute(
                f"UPDATE {table} SET custom = json_remove(custom, %s) "
                "WHERE workspace_id = %s AND json_type(custom, %s) IS NOT NULL",
                [path, workspace.pk, path],
            )


# --- users ------------------------------------------------------------------------


def stored_value(attr: AttributeDef, value: Any) -> Any:
    """A coerced value as it is kept in the custom JSON column."""
    if value is None:
        return None
    if attr.type == AttrType.DATE:
        return to_epoch(value)
    return value


@dataclass
class UpsertResult:
    person: Person
    created: bool
    # What was left out of the write and why (shown to the caller, not errors).
    warnings: list[PaviorError] = field(default_factory=list)


class EmailNotProven(PaviorError):
    code = "email_not_proven"
    status = 200  # a warning: the rest of the write is kept


def upsert_user(
    workspace: Workspace,
    values: dict[str, Any],
    *,
    trust: Trust,
    path_id: str | None = None,
    lookup: Any = None,
    proven_email: str | None = None,
) -> UpsertResult:
    """Create or update one user from API names -> raw values.

    `id` defaults to `email`; a user first known only by email is upgraded in
    place (not duplicated) when a later call brings an id with that email.
    From the browser that holds only for a `proven_email` (SPEC §6): an
    unproven email finds nobody, and is not written when another user has it.
    """
    lookup = lookup or attribute_lookup(workspace)
    if path_id is not None:
        if "id" in values and values["id"] is not None and str(values["id"]) != path_id:
            raise InvalidValue(
                f'The body\'s id "{values["id"]}" differs from the URL\'s "{path_id}"', field="id"
            )
        values = {**values, "id": path_id}
    prepared = prepare_write(
        values, lookup, trust=trust, max_string_length=settings.PAVIOR_MAX_STRING_LENGTH
    )
    email = prepared.get("email")
    by_email = may_attach_by_email(trust, email if isinstance(email, str) else None, proven_email)
    warnings = [] if by_email else _keep_others_email(workspace, prepared)
    try:
        with transaction.atomic():
            result = _apply_write(workspace, prepared, lookup, by_email=by_email)
    except IntegrityError:
        # Two first writes for the same new user raced and the other one
        # inserted it: this attempt now finds the row and updates it.
        with transaction.atomic():
            result = _apply_write(workspace, prepared, lookup, by_email=by_email)
    result.warnings = warnings
    return result


def create_users_by_id(
    workspace: Workspace, user_ids: list[str], *, trust: Trust
) -> dict[str, Person]:
    """New users known only by their id, made as `upsert_user(workspace, {"id": …})`
    makes each (same checks, same first_known_at, same user_changed on commit),
    in one INSERT: the tracking writer's flush creates its new visitors this way.

    Returns them by id. An id the checks refuse is left out (its caller's own
    path then says why), and so is every id when one of them exists already
    (another process made it first): the caller finds or creates those one by
    one. Runs inside the caller's transaction.
    """
    lookup = builtin_lookup(workspace)  # only the id is written: no custom definitions
    now = timezone.now()
    people: list[Person] = []
    for user_id in dict.fromkeys(user_ids):
        try:
            prepared = prepare_write(
                {"id": user_id},
                lookup,
                trust=trust,
                max_string_length=settings.PAVIOR_MAX_STRING_LENGTH,
            )
        except PaviorError:
            continue
        if prepared.get("id") != user_id:
            continue
        person = Person(workspace=workspace, external_id=user_id, first_known_at=now)
        _apply_values(person, prepared, lookup)
        people.append(person)
    try:
        with transaction.atomic():
            insert_people(people)
    except IntegrityError:
        return {}
    hooks.user_changed.emit_many([_created(person) for person in people])
    return {person.external_id: person for person in people}


def _keep_others_email(workspace: Workspace, prepared: dict[str, Any]) -> list[PaviorError]:
    """Leave an unproven email out of the write when another user has it: the
    call's user keeps their id and the email stays where it was (SPEC §6)."""
    email = prepared.get("email")
    if not email:
        return []
    own = prepared.get("id") or email
    having = Person.objects.filter(workspace=workspace, email=email)
    if not having.exclude(external_id=own).exists() or having.filter(external_id=own).exists():
        return []  # nobody else has it, or it is already this user's own
    del prepared["email"]
    if "id" not in prepared:
        prepared["id"] = email  # the call's own key, as a user of its own
    return [
        EmailNotProven(
            "This email belongs to another user and the call does not prove it (a user_hash "
            "over the email, or an email claim in user_jwt); it was not attached",
            field="email",
        )
    ]


def _apply_write(
    workspace: Workspace, prepared: dict[str, Any], lookup: Any, *, by_email: bool = True
) -> UpsertResult:
    user_id = prepared.get("id")
    email = prepared.get("email")
    if "id" in prepared and user_id is None:
        raise InvalidValue("id cannot be cleared", field="id")
    person = _match(workspace, user_id, email, by_email=by_email)
    created = person is None
    if person is None:
        if not (user_id or email):
            raise InvalidValue("A user needs an id or an email", field="id")
        person = Person(workspace=workspace, external_id=str(user_id or email))
        person.first_known_at = timezone.now()
    elif user_id and person.external_id != user_id:
        person.external_id = user_id  # upgrade an email-only user to a real id
    before = None if created else _snapshot(person)
    _apply_values(person, prepared, lookup)
    person.save()
    _announce(person, before)
    return UpsertResult(person=person, created=created)


def _snapshot(person: Person) -> dict[str, Any]:
    """API name -> stored value of everything a write can change."""
    values = {name: getattr(person, column) for name, column in BUILTIN_COLUMNS.items()}
    values.update(person.custom or {})
    return values


def _created(person: Person) -> hooks.UserChanged:
    """The user_changed event of a new user (as _announce emits it)."""
    after = _snapshot(person)
    return hooks.UserChanged(
        workspace_id=person.workspace_id,
        person_id=person.pk,
        user_id=person.external_id,
        created=True,
        changed=frozenset(name for name, value in after.items() if value is not None),
    )


def _announce(person: Person, before: dict[str, Any] | None) -> None:
    """Emit user_changed / email_subscription_changed for a saved write (on commit)."""
    after = _snapshot(person)
    if before is None:
        changed = frozenset(name for name, value in after.items() if value is not None)
    else:
        changed = frozenset(
            name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
        )
    if before is not None and not changed:
        return
    hooks.user_changed.emit(
        hooks.UserChanged(
            workspace_id=person.workspace_id,
            person_id=person.pk,
            user_id=person.external_id,
            created=before is None,
            changed=changed,
        )
    )
    if before is not None and "email_subscription" in changed:
        hooks.email_subscription_changed.emit(
            hooks.EmailSubscriptionChanged(
                workspace_id=person.workspace_id,
                person_id=person.pk,
                user_id=person.external_id,
                subscribed=person.email_subscription,
            )
        )


def _match(
    workspace: Workspace, user_id: str | None, email: str | None, *, by_email: bool = True
) -> Person | None:
    """The user this write is for. Without `by_email` (a browser call whose email
    is not proven) only the call's own key finds them, never the email."""
    people = Person.objects.select_for_update().filter(workspace=workspace)
    if not by_email:
        key = user_id or email
        return people.filter(external_id=key).first() if key else None
    if user_id:
        person = people.filter(external_id=user_id).first()
        if person is not None:
            return person
        if email:
            # Only a user still keyed by its email may be upgraded to this id;
            # one with another real id is a different person who shares it.
            return people.filter(external_id=email, email=email).first()
        return None
    if email:
        return (
            people.filter(external_id=email).first()
            or people.filter(email=email).order_by("-updated_at", "-pk").first()
        )
    return None


def _apply_values(person: Person, prepared: dict[str, Any], lookup: Any) -> None:
    call = dict(prepared)
    call.pop("id", None)
    # Fill the missing half of a first/last pair from the stored user, so
    # that "name" is derived from the whole person, not half of them.
    if ("first_name" in call) != ("last_name" in call) and "name" not in call:
        call.setdefault("first_name", person.first_name)
        call.setdefault("last_name", person.last_name)
    call = derive_names(call)
    custom = dict(person.custom or {})
    for name, value in call.items():
        attr = lookup(name)
        if attr is None:  # derived keys are built-ins, always known
            continue
        if attr.builtin:
            if name == "email_subscription":
                new = merge_subscription(
                    person.email_subscription, None if value is None else bool(value)
                )
                if value is True and new is False:
                    raise PaviorError(
                        "This user unsubscribed from email; only they can resubscribe "
                        "(from the Pavior bubble on your website)",
                        field="email_subscription",
                        code="unsubscribed",
                    )
                person.email_subscription = new
                continue
            setattr(person, BUILTIN_COLUMNS[name], value)
        elif value is None:
            custom.pop(name, None)
        else:
            custom[name] = stored_value(attr, value)
    person.custom = custom


def erase_user(workspace: Workspace, user_id: str) -> None:
    """Erase a user and everything recorded about them (activity cascades)."""
    with transaction.atomic():
        deleted, _ = Person.objects.filter(workspace=workspace, external_id=user_id).delete()
        if not deleted:
            raise NotFound(f'No user with id "{user_id}"', field="id")


def set_subscription_by_user(person: Person, subscribed: bool) -> bool:
    """The user's own choice about email (SPEC §7): the only write that may resubscribe.

    Called inside the caller's transaction (messaging records how and when).
    Returns whether the value moved.
    """
    locked = Person.objects.select_for_update().get(pk=person.pk)
    new = merge_subscription(locked.email_subscription, subscribed, by_user=True)
    if new == locked.email_subscription:
        person.email_subscription = new
        return False
    before = _snapshot(locked)
    locked.email_subscription = new
    locked.save(update_fields=["email_subscription", "updated_at"])
    person.email_subscription = new
    _announce(locked, before)
    return True
