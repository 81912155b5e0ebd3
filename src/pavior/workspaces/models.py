"""A workspace is one business: its public app_id, secret keys and settings."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models


class IdentityVerification(models.TextChoices):
    OFF = "off"
    OPTIONAL = "optional"
    REQUIRED = "required"


def new_app_id() -> str:
    # Public and short: it is pasted into every page of the customer's site.
    return "app_" + secrets.token_hex(8)


class Workspace(models.Model):
    name = models.CharField(max_length=200)
    app_id = models.CharField(max_length=64, unique=True, default=new_app_id)
    identity_verification = models.CharField(
        max_length=8, choices=IdentityVerification.choices, default=IdentityVerification.OPTIONAL
    )
    snippet_creates_attributes = models.BooleanField(default=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # API names of built-in attributes that the browser may not write.
    locked_builtins = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.app_id})"


def hash_api_key(key: str) -> str:
    # API keys carry 256 bits of entropy, so a plain SHA-256 is a safe and
    # fast lookup key; a slow password hash would only cost every API call.
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, default="default")
    prefix = models.CharField(max_length=16)  # shown in lists so keys can be told apart
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)


class IdentitySecret(models.Model):
    """An HMAC key for identity verification.

    Kept in clear because the server must compute HMACs with it; it is shown
    to the team once, at creation, and never again.
    """

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="identity_secrets"
    )
    secret = models.CharField(max_length=128)
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique")
        ]
