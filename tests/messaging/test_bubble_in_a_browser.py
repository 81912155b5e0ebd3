"""The bubble on a customer's page of another origin with a strict CSP, in
Chromium (SPEC §12, §10 Website): a message shown only on /pricing after its
time threshold, only to its audience, once across two browser contexts; dismiss,
click and stats; resubscribe; a hostile body stays harmless; keyboard use."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx
import pytest

from pavior.core.identity import user_hash
from pavior.messaging.actions import change_subscription
from pavior.messaging.models import Delivery
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.models import Person
from pavior.workspaces.actions import create_api_key, create_identity_secret, create_workspace
from tests.messaging.conftest import live_message

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("PAVIOR_SHOTS", "/tmp/shots-bubble")
THRESHOLD = 2  # seconds on /pricing (a real message would say 30)

STUB = (
    "window.Pavior = window.Pavior || function () "
    "{ (window.Pavior.q = window.Pavior.q || []).push(arguments); };"
)
SITE_HTML = """<!doctype html><html><head><title>Shop</title></head><body>
<h1>Shop</h1>
<nav><a id="to-home" href="/home">Home</a> <a id="to-pricing" href="/pricing">Pricing</a></nav>
<p>Products and prices.</p>
<script src="/site.js"></script>
</body></html>"""


def site_js(pavior: str, init: dict[str, Any]) -> str:
    """The site's own script (no inline script: the CSP forbids it): the stub,
    init, the loader, and SPA navigation through the History API."""
    src = json.dumps(pavior + "/pavior.js")
    return f"""
{STUB}
Pavior('init', {json.dumps(init)});
(function () {{
  var s = document.createElement('script'); s.async = true; s.src = {src};
  document.head.appendChild(s);
  document.querySelectorAll('nav a').forEach(function (a) {{
    a.addEventListener('click', function (e) {{
      e.preventDefault(); history.pushState({{}}, '', a.getAttribute('href'));
    }});
  }});
}})();
"""


@pytest.fixture
def shop(served: Any, host_site: dict[str, Any]) -> dict[str, Any]:
    """A workspace (identity verification `optional`, the default), its secret,
    a `plan` attribute, and the host site pointed at the served Pavior."""
    made = create_workspace("Shop")
    ws = made.workspace
    secret, _ = create_identity_secret(ws)
    create_attribute(ws, "plan", "string")
    host_site["pavior"] = served.url
    host_site["html"] = SITE_HTML
    return {"ws": ws, "secret": secret, "site": host_site, "served": served}


def open_as(browser: Any, shop: dict[str, Any], user_id: str, path: str = "/home") -> Any:
    """A new browser context (another device) on the shop as `user_id`, verified."""
    init = {
        "app_id": shop["ws"].app_id,
        "id": user_id,
        "user_hash": user_hash(shop["secret"], user_id),
    }
    shop["site"]["js"] = site_js(shop["served"].url, init)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []  # console errors (a CSP violation is one) and page errors
    page.dialogs = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))

    def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(shop["site"]["url"] + path)
    return page


def seen_by_pavior(shop: dict[str, Any], user_id: str, plan: str | None = None) -> None:
    """The user exists with their plan (as the site's backend would have said)."""
    values: dict[str, Any] = {"id": user_id}
    if plan:
        values["plan"] = plan
    from pavior.core.attributes import Trust

    upsert_user(shop["ws"], values, trust=Trust.SECRET)


def card(page: Any) -> Any:
    return page.get_by_role("dialog").filter(has=page.get_by_role("button", name="Dismiss"))


def stats(shop: dict[str, Any], message_id: int) -> dict[str, int]:
    key = create_api_key(shop["ws"])
    r = httpx.get(
        f"{shop['served'].url}/api/v1/messages/{message_id}/stats",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_shown_on_pricing_after_the_threshold_to_the_audience_once(
    browser: Any, shop: dict[str, Any]
) -> None:
    ws = shop["ws"]
    thanks = shop["site"]["url"] + "/thanks"
    m = live_message(
        ws,
        title="Pro tip",
        body=f"Teams save **20 %** yearly. [See plans]({thanks})",
        audience={"attribute": "plan", "op": "eq", "value": "pro"},
        rules={
            "and": [
                {"attribute": "current_page_url", "op": "contains", "value": "/pricing"},
                {"attribute": "time_on_current_page", "op": "gte", "value": THRESHOLD},
            ]
        },
    )
    seen_by_pavior(shop, "ada", "pro")
    seen_by_pavior(shop, "bob", "free")

    ada = open_as(browser, shop, "ada")
    time.sleep(THRESHOLD + 1.5)  # long enough on /home: the URL rule keeps it away
    assert card(ada).count() == 0
    ada.click("#to-pricing")  # an SPA route change
    moved = time.monotonic()
    time.sleep(THRESHOLD - 0.8)
    assert card(ada).count() == 0  # not before the threshold
    card(ada).wait_for(timeout=5000)
    appeared = time.monotonic() - moved
    assert THRESHOLD - 0.8 < appeared < THRESHOLD + 1.2, appeared  # about a second after
    assert card(ada).get_by_role("heading", name="Pro tip").is_visible()
    assert ada.get_by_role("button", name="Open messages").is_visible()
    assert ada.locator("#pavior-messenger").evaluate("e => e.shadowRoot.mode") == "open"
    os.makedirs(SHOTS, exist_ok=True)
    ada.screenshot(path=f"{SHOTS}/bubble-message-shown.png")

    # Another device of the same user: already shown, never again.
    ada2 = open_as(browser, shop, "ada", "/pricing")
    # Outside the audience: never.
    bob = open_as(browser, shop, "bob", "/pricing")
    time.sleep(THRESHOLD + 2)
    assert card(ada2).count() == 0 and card(bob).count() == 0
    assert Delivery.objects.filter(message=m).count() == 1

    # Dismiss; then the panel lists it; a link in it counts as a click.
    card(ada).get_by_role("button", name="Dismiss").click()
    card(ada).wait_for(state="detached", timeout=3000)
    ada.get_by_role("button", name="Open messages").click()
    panel = ada.get_by_role("dialog", name="Messages")
    panel.get_by_role("heading", name="Pro tip").wait_for(timeout=3000)
    ada.screenshot(path=f"{SHOTS}/bubble-panel-open.png")
    panel.get_by_role("link", name="See plans").click()
    ada.wait_for_url(thanks)
    deadline = time.monotonic() + 5
    while stats(shop, m.pk)["clicked"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    got = stats(shop, m.pk)
    assert (got["shown"], got["dismissed"], got["clicked"]) == (1, 1, 1)

    for page in (ada, ada2, bob):
        assert page.errors == [] and page.dialogs == []
    assert shop["site"]["csp_reports"] == []
    for page in (ada, ada2, bob):
        page.context.close()


def test_announcements_wait_their_turn_and_show_hide_open_the_panel(
    browser: Any, shop: dict[str, Any]
) -> None:
    ws = shop["ws"]
    news = live_message(ws, title="Big news", body="We moved.")
    chat = live_message(ws, kind="chat", title="", sender_name="Grace Hopper", body="Need help?")
    seen_by_pavior(shop, "cy")
    page = open_as(browser, shop, "cy")
    card(page).wait_for(timeout=5000)
    # One at a time, the chat first; the announcement waits for the dismiss.
    assert card(page).count() == 1
    assert card(page).get_by_text("Grace Hopper").is_visible()
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=f"{SHOTS}/bubble-chat-shown.png")
    time.sleep(0.5)
    assert Delivery.objects.filter(message=news).count() == 0
    card(page).get_by_role("button", name="Dismiss").click()
    card(page).get_by_role("heading", name="Big news").wait_for(timeout=5000)
    assert Delivery.objects.filter(message__in=[news, chat]).count() == 2
    card(page).get_by_role("button", name="Dismiss").click()

    panel = page.get_by_role("dialog", name="Messages")
    page.evaluate("Pavior('show')")
    panel.get_by_role("heading", name="Big news").wait_for(timeout=3000)
    page.screenshot(path=f"{SHOTS}/bubble-panel-two-messages.png")
    titles = panel.locator(".pv-item").all_inner_texts()
    assert titles[0].startswith("Big news") and "Grace Hopper" in titles[1]  # newest first
    page.evaluate("Pavior('hide')")
    assert panel.is_hidden()
    # Keyboard: the launcher opens it, Escape closes it and gives focus back.
    launcher = page.get_by_role("button", name="Open messages")
    launcher.focus()
    page.keyboard.press("Enter")
    assert panel.is_visible() and launcher.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert (
        page.evaluate(
            "document.getElementById('pavior-messenger').shadowRoot.activeElement.getAttribute('aria-label')"
        )
        == "Open messages"
    )
    assert page.errors == [] and shop["site"]["csp_reports"] == []
    page.context.close()


def test_resubscribe_from_the_bubble(browser: Any, shop: dict[str, Any]) -> None:
    ws = shop["ws"]
    live_message(ws, title="Welcome back", body="Hello again.")
    seen_by_pavior(shop, "dee")
    person = Person.objects.get(workspace=ws, external_id="dee")
    person.email = "dee@example.com"
    person.save(update_fields=["email"])
    change_subscription(person, False, source="unsubscribe_link")
    page = open_as(browser, shop, "dee")
    card(page).wait_for(timeout=5000)
    page.get_by_role("button", name="Open messages").click()
    panel = page.get_by_role("dialog", name="Messages")
    panel.get_by_text("You are unsubscribed from our emails.").wait_for(timeout=3000)
    panel.get_by_role("button", name="Resubscribe to emails").click()
    panel.get_by_text("you will get our emails again").wait_for(timeout=3000)
    person.refresh_from_db()
    assert person.email_subscription is True
    change = person.subscription_changes.latest("at")
    assert (change.subscribed, change.source) == (True, "bubble")
    assert page.errors == []
    page.context.close()


def test_a_hostile_body_is_harmless_in_the_bubble(browser: Any, shop: dict[str, Any]) -> None:
    ws = shop["ws"]
    live_message(
        ws,
        title="<img src=x onerror=alert(1)>",
        body=(
            "<script>alert(2)</script> <img src=x onerror=alert(3)> "
            "[click](javascript:alert(4)) <a href='javascript:alert(5)'>raw</a> "
            "[data](data:text/html,<script>alert(6)</script>)"
        ),
    )
    seen_by_pavior(shop, "eve")
    page = open_as(browser, shop, "eve")
    card(page).wait_for(timeout=5000)
    root = "document.getElementById('pavior-messenger').shadowRoot"
    assert page.evaluate(f"{root}.querySelectorAll('script, img, iframe, [onerror]').length") == 0
    assert (
        page.evaluate(f'{root}.querySelectorAll(\'a[href^="javascript"], a[href^="data"]\').length')
        == 0
    )
    # The title is text, shown as written.
    assert card(page).get_by_role("heading", name="<img src=x onerror=alert(1)>").is_visible()
    for a in page.locator("#pavior-messenger a").all():
        a.click(modifiers=["Control"])  # would run a javascript: link
    time.sleep(0.5)
    assert page.dialogs == [] and page.errors == []
    assert shop["site"]["csp_reports"] == []
    page.context.close()


def test_timer_logic_of_the_rules(browser: Any, served: Any) -> None:
    """Unit level: when the next time threshold falls, and how rules read the page."""
    page = browser.new_page()
    page.goto(served.url + "/pavior.js")  # any page of Pavior's origin
    page.add_script_tag(url=served.url + "/pavior.js")
    due = page.evaluate(
        """() => {
      const r = Pavior.rules, p = {attribute: 'time_on_current_page', op: 'gte', value: 30};
      const s = {attribute: 'current_session_duration', op: 'gte', value: 60};
      const starts = {time_on_current_page: 1000, current_session_duration: 0};
      return [
        r.dueAt(p, starts, 1000),            // 30 s after the page began
        r.dueAt(p, starts, 31000),           // already past: never again
        r.dueAt({and: [p, s]}, starts, 1000),// the earlier of the two
        r.dueAt({and: [p, s]}, starts, 40000),
        r.dueAt({attribute: 'time_on_current_page', op: 'lte', value: 5}, starts, 0),
        r.holds({and: [p, {attribute: 'current_page_url', op: 'contains', value: '/PRICING'}]},
                {time_on_current_page: 30, current_page_url: 'https://a.example/pricing'}),
        r.holds({attribute: 'current_page_url', op: 'eq', value: 'https://a.example/Pricing'},
                {current_page_url: 'https://a.example/pricing'}),
        r.holds({or: [{attribute: 'interacted_in_current_session', op: 'eq', value: false}]},
                {interacted_in_current_session: true}),
        r.holds({attribute: 'current_page_url', op: 'ends_with', value: 'ING'},
                {current_page_url: 'https://a.example/pricing'}),
        r.holds(null, {}),
      ];
    }"""
    )
    never = float("inf")
    assert due == [31000, never, 31000, 60000, never, True, False, False, True, True]
    page.close()
