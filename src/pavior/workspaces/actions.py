"""Workspace state changes: creation, keys, secrets, settings, team members."""

from __future__ import annotations

import secrets
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from pavior.core.errors import Conflict, InvalidValue, NotFound
from pavior.core.identity import new_secret
from pavior.workspaces.models import (
    ApiKey,
    IdentitySecret,
    IdentityVerification,
    Membership,
    Workspace,
    hash_api_key,
)

API_KEY_PREFIX = "sk_"
API_KEY_NAME_MAX = 100  # ApiKey.name's column


@dataclass
class NewWorkspace:
    workspace: Workspace
    api_key: str
    identity_secret: str


def create_workspace(name: str) -> NewWorkspace:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidValue("A workspace name is 1 to 200 characters", field="name")
    with transaction.atomic():
        ws = Workspace.objects.create(name=name)
        key = create_api_key(ws)
        secret, _ = create_identity_secret(ws)
        # Install-wide admins see every workspace without a membership row.
        return NewWorkspace(workspace=ws, api_key=key, identity_secret=secret)


def create_api_key(workspace: Workspace, name: str = "default") -> str:
    return add_api_key(workspace, name)[0]


def add_api_key(workspace: Workspace, name: str) -> tuple[str, ApiKey]:
    """A new secret key named so the team can tell keys apart; the key is returned
    once (only its hash is stored)."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > API_KEY_NAME_MAX:
        raise InvalidValue(
            f"An API key name is 1 to {API_KEY_NAME_MAX} characters (e.g. Billing server)",
            field="name",
        )
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey.objects.create(
        workspace=workspace, name=name, prefix=key[:10], key_hash=hash_api_key(key)
    )
    return key, row


def revoke_api_key(workspace: Workspace, key_id: int) -> str:
    """Delete a key: calls made with it get 401 at once. Returns the key's name."""
    with transaction.atomic():
        row = ApiKey.objects.filter(workspace=workspace, pk=key_id).first()
        if row is None:
            raise NotFound(f"No API key with id {key_id} in this workspace", field="id")
        row.delete()
    return row.name


def workspace_for_api_key(key: str) -> Workspace | None:
    if not key or not key.startswith(API_KEY_PREFIX):
        return None
    api_key = ApiKey.objects.select_related("workspace").filter(key_hash=hash_api_key(key)).first()
    if api_key is None:
        return None
    now = timezone.now()
    # Touch at most once a minute: a write per API call would cost more than the call.
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key.workspace


def create_identity_secret(workspace: Workspace) -> tuple[str, IdentitySecret]:
    secret = new_secret()
    row = IdentitySecret.objects.create(workspace=workspace, secret=secret, prefix=secret[:6])
    return secret, row


def revoke_identity_secret(workspace: Workspace, secret_id: int) -> None:
    deleted, _ = IdentitySecret.objects.filter(workspace=workspace, pk=secret_id).delete()
    if not deleted:
        raise NotFound(f"No identity secret with id {secret_id}", field="id")


def update_workspace_settings(workspace: Workspace, changes: dict[str, Any]) -> Workspace:
    allowed = {"identity_verification", "snippet_creates_attributes", "timezone", "name"}
    for key in changes:
        if key not in allowed:
            raise InvalidValue(
                f'Unknown setting "{key}"; settings are {", ".join(sorted(allowed))}', field=key
            )
    if "identity_verification" in changes:
        mode = changes["identity_verification"]
        if mode not in IdentityVerification.values:
            raise InvalidValue(
                f"identity_verification is one of off, optional, required; not {mode!r}",
                field="identity_verification",
            )
    if "snippet_creates_attributes" in changes and not isinstance(
        changes["snippet_creates_attributes"], bool
    ):
        raise InvalidValue(
            "snippet_creates_attributes is true or false", field="snippet_creates_attributes"
        )
    if "timezone" in changes:
        tz = changes["timezone"]
        if not isinstance(tz, str) or tz not in zoneinfo.available_timezones():
            raise InvalidValue(
                f"{tz!r} is not a time zone name (e.g. Europe/Paris, America/New_York, UTC)",
                field="timezone",
            )
    if "name" in changes and (
        not isinstance(changes["name"], str) or not 0 < len(changes["name"].strip()) <= 200
    ):
        raise InvalidValue("A workspace name is 1 to 200 characters", field="name")
    with transaction.atomic():
        ws = Workspace.objects.select_for_update().get(pk=workspace.pk)
        for key, value in changes.items():
            setattr(ws, key, value.strip() if key == "name" else value)
        ws.save()
    return ws


def create_admin(email: str, password: str, *, workspaces: list[Workspace] | None = None) -> Any:
    """A team member login. Without `workspaces` it is an install-wide admin."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidValue(f"{email!r} is not an email address", field="email")
    User = get_user_model()
    if User.objects.filter(username=email).exists():
        raise InvalidValue(f"A team member with email {email} already exists", field="email")
    try:
        validate_password(password)
    except ValidationError as e:
        raise InvalidValue(" ".join(e.messages), field="password") from e
    with transaction.atomic():
        user = User.objects.create_user(
            username=email, email=email, password=password, is_staff=workspaces is None
        )
        for ws in workspaces or []:
            Membership.objects.create(user=user, workspace=ws)
    return user


# pg_advisory_xact_lock key of the first-run setup: any constant works, as long as
# nothing else in the database takes the same one ("pavfr" in ASCII).
FIRST_RUN_LOCK = 0x7061766672


class AlreadySetUp(Conflict):
    code = "already_set_up"


@dataclass
class FirstAdmin:
    user: Any
    workspace: Workspace
    # Shown once at the end of the first-run page, never stored in clear.
    api_key: str
    identity_secret: str


def no_team_yet() -> bool:
    return not get_user_model().objects.exists()


def set_up_first_admin(email: str, password: str, workspace_name: str) -> FirstAdmin:
    """First run: the first team member (an install-wide admin) and their workspace.

    Only while no team member exists. Two browsers racing through the setup
    form cannot both become admin on either database: on PostgreSQL a
    transaction-scoped advisory lock makes the check-then-create one at a time
    (an exists() check alone locks nothing there); on SQLite every transaction
    already takes the write lock at BEGIN (settings: IMMEDIATE).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [FIRST_RUN_LOCK])
        if not no_team_yet():
            raise AlreadySetUp("Pavior is already set up; sign in instead", field="email")
        new = create_workspace(workspace_name)
        user = create_admin(email, password)
    return FirstAdmin(
        user=user,
        workspace=new.workspace,
        api_key=new.api_key,
        identity_secret=new.identity_secret,
    )


def workspaces_for_member(user: Any) -> list[Workspace]:
    if not user.is_authenticated:
        return []
    if user.is_staff:
        return list(Workspace.objects.order_by("name", "pk"))
    return list(Workspace.objects.filter(memberships__user=user).order_by("name", "pk"))
