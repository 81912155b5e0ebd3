from __future__ import annotations

import pytest

from pavior.core.profile import merge_subscription


@pytest.mark.parametrize(
    ("current", "new", "by_user", "expected"),
    [
        (True, None, False, True),
        (False, None, False, False),
        (True, False, False, False),  # anyone may unsubscribe
        (True, False, True, False),
        (False, True, False, False),  # an import or admin cannot resubscribe
        (False, True, True, True),  # the user can
        (True, True, False, True),
    ],
)
def test_merge_subscription(current: bool, new: bool | None, by_user: bool, expected: bool) -> None:
    assert merge_subscription(current, new, by_user=by_user) is expected
