"""Cancelling an import from its page: it ends "cancelled" and changes nobody."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot
from tests.web.conftest import Team, add_users

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 200_000


def _upload(team: Team, rows: int) -> Any:
    from pavior.imports import actions

    text = "id,email,city,plan\n" + "".join(f"u{i},u{i}@x.io,Berlin,pro\n" for i in range(rows))
    imp = actions.create_import(team.workspace, io.BytesIO(text.encode()), "big.csv")
    actions.set_mapping(imp, {"plan": "plan:string"})
    return imp


def _people(team: Team) -> list[tuple[Any, ...]]:
    from pavior.people.models import Person

    return list(
        Person.objects.filter(workspace=team.workspace)
        .order_by("external_id")
        .values_list("external_id", "email", "name", "custom", "updated_at")
    )


def test_cancel_a_running_import_from_its_page(signed_in: Any, team: Team) -> None:
    from django.db import connection

    from pavior.imports import actions
    from pavior.imports.models import Import
    from pavior.people.models import AttributeDefinition

    page = signed_in
    add_users(team.workspace, [{"id": "u1", "email": "u1@x.io", "name": "Una"}])
    before = _people(team)
    imp = _upload(team, ROWS)
    Import.objects.filter(pk=imp.pk).update(status="queued")

    # The worker's part, in a thread of its own (as the task worker would run it).
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["import"] = actions.run_import(imp.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=work, name="import-worker")
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while actions.read_progress(imp).get("stage") != "reading":
            assert worker.is_alive() and time.monotonic() < deadline, "the import never ran"
            time.sleep(0.01)
        page.goto(f"{page.base}/imports/{imp.pk}/")
        expect(page.get_by_role("heading", name="4. Importing")).to_be_visible()
        page.get_by_role("button", name="Cancel import").click()
    finally:
        worker.join(timeout=120)
    assert not worker.is_alive()
    assert outcome["import"].status == "cancelled"
    page.goto(f"{page.base}/imports/{imp.pk}/")
    expect(page.locator("main")).to_contain_text("This import is cancelled. No user was changed.")
    screenshot(page, "imports-cancelled")
    assert Import.objects.get(pk=imp.pk).status == "cancelled"
    assert _people(team) == before
    assert not AttributeDefinition.objects.filter(workspace=team.workspace).exists()


def test_cancel_before_the_worker_starts_it(signed_in: Any, team: Team) -> None:
    from pavior.imports import actions
    from pavior.imports.models import Import

    page = signed_in
    imp = _upload(team, 10)
    Import.objects.filter(pk=imp.pk).update(status="queued")
    page.goto(f"{page.base}/imports/{imp.pk}/")
    page.get_by_role("button", name="Cancel import").click()
    expect(page.locator("main")).to_contain_text("This import is cancelled")
    assert actions.run_import(imp.pk).status == "cancelled"  # the worker then skips it
    assert _people(team) == []
