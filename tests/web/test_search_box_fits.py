"""The users list's search box shows its whole placeholder, on a desktop and a phone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import screenshot
from tests.web.conftest import Team, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

# Typed as a value, the placeholder's text overflows the box exactly when the
# placeholder would be cut (the search field keeps room for its clear button).
MEASURE = """el => {
  el.value = el.placeholder;
  const sizes = [el.scrollWidth, el.clientWidth];
  el.value = '';
  return sizes;
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_placeholder_is_not_cut(page: Any, served: Any, team: Team, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, served.url, team.email, team.password)
    box = page.get_by_role("searchbox", name="Search by name or email")
    needed, room = box.evaluate(MEASURE)
    screenshot(page, f"web-users-search-{width}")
    assert needed <= room, f"the placeholder needs {needed}px, the box has {room}px"
