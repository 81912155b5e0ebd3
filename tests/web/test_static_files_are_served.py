"""Pages load their stylesheets and scripts as production serves them
(servestatic under pavior.asgi), with no console error."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Team, add_users, assert_clean


def test_pages_load_their_css_and_js_under_asgi(signed_in: Any, team: Team) -> None:
    page = signed_in
    add_users(team.workspace, [{"id": "u1", "email": "ada@example.com", "name": "Ada"}])
    statics: dict[str, int] = {}
    page.on(
        "response",
        lambda r: statics.__setitem__(r.url, r.status) if "/static/" in r.url else None,
    )
    for path in ("/", "/imports/", "/attributes/", "/install/"):
        page.goto(page.base + path)
        page.wait_for_load_state("networkidle")
        # app.css is applied: the body no longer has the browser's default margin.
        assert page.evaluate("getComputedStyle(document.body).margin") == "0px", path
        # app.js and htmx ran.
        assert page.evaluate("typeof window.htmx") == "object", path
    names = {url.rsplit("/", 1)[-1] for url in statics}
    assert {"app.css", "app.js", "htmx.min.js", "favicon.svg"} <= names, names
    assert set(statics.values()) == {200}, statics
    assert page.probe.console_errors == []
    assert_clean(page)
