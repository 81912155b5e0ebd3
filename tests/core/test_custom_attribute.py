from __future__ import annotations

import pytest

from pavior.core.attributes import AttrType, Trust, custom_attribute
from pavior.core.errors import InvalidType


def test_custom_attribute_is_writable_by_everyone_by_default() -> None:
    a = custom_attribute("twitterHandle", "string")
    assert a.rendered_name == "Twitter Handle"
    assert a.type is AttrType.STRING
    assert a.writable_by == frozenset(Trust)
    assert a.browser_writable and not a.read_only and not a.builtin and not a.live
    assert not a.archived


def test_locked_attribute_is_not_browser_writable_but_server_writable() -> None:
    a = custom_attribute("tier", AttrType.STRING, browser_writable=False, archived=True)
    assert a.writable_by == {Trust.SECRET, Trust.IMPORT}
    assert not a.browser_writable and not a.read_only
    assert a.archived


def test_unknown_type_is_refused() -> None:
    with pytest.raises(InvalidType):
        custom_attribute("x", "text")
