"""Shared definitions for the core tests: a small workspace schema."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pavior.core.attributes import BUILTINS, AttributeDef, AttrType, custom_attribute

CUSTOM = {
    a.name: a
    for a in (
        custom_attribute("plan", AttrType.STRING),
        custom_attribute("plan_price", AttrType.NUMBER),
        custom_attribute("renewal_on", AttrType.DATE),
        custom_attribute("is_active_affiliate", AttrType.BOOLEAN),
        custom_attribute("old_plan", AttrType.STRING, archived=True),
        custom_attribute("tier", AttrType.STRING, browser_writable=False),
    )
}
SCHEMA: dict[str, AttributeDef] = {**BUILTINS, **CUSTOM}


@pytest.fixture
def lookup() -> Callable[[str], AttributeDef | None]:
    return SCHEMA.get
