"""Server time of the Messages admin pages over many users and messages.

Usage (SQLite, a fresh data dir):
    PYTHONPATH=src PAVIOR_DATA_DIR=/tmp/pv-bench-msg python bench/messages/admin_pages.py \
        --users 200000 --messages 20
PostgreSQL: the same with DATABASE_URL=postgresql://...

Users come from bench/web/bench_users_list.py's set-based generator. Each page
is timed in-process with Django's test Client beside references measured in the
same run: the users list page with the same filter, and the bare count query of
one audience (the list page counts every message's audience, so it costs about
that times the number of messages).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
os.environ.setdefault("PAVIOR_LOGIN_THROTTLING", "false")

_spec = importlib.util.spec_from_file_location(
    "bench_users_list", Path(__file__).resolve().parent.parent / "web" / "bench_users_list.py"
)
assert _spec and _spec.loader
users_bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_users_list"] = users_bench
_spec.loader.exec_module(users_bench)  # sets Django up

import json  # noqa: E402
from urllib.parse import quote  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from pavior.messaging.actions import create_message  # noqa: E402
from pavior.messaging.models import Message  # noqa: E402
from pavior.people.actions import create_attribute  # noqa: E402
from pavior.segments.queries import count_people  # noqa: E402
from pavior.segments.saved import parse_workspace_filter  # noqa: E402
from pavior.workspaces.actions import create_admin, create_workspace  # noqa: E402
from pavior.workspaces.models import Workspace  # noqa: E402

FR = {"attribute": "country", "op": "eq", "value": "FR"}
PRO = {
    "and": [
        {"attribute": "plan", "op": "eq", "value": "pro"},
        {"attribute": "seats", "op": "gte", "value": 40},
    ]
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=200_000)
    ap.add_argument("--messages", type=int, default=20)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    call_command("migrate", verbosity=0)
    ws = Workspace.objects.filter(name="bench-msg").first()
    if ws is None or ws.people.count() != args.users:
        Workspace.objects.filter(name="bench-msg").delete()
        ws = create_workspace("bench-msg").workspace
        for name, kind in (("plan", "string"), ("seats", "number"), ("renewsOn", "date")):
            create_attribute(ws, name, kind)
        t0 = time.perf_counter()
        users_bench.generate(ws, args.users)
        print(f"generated {args.users:,} users in {time.perf_counter() - t0:.1f} s")
    Message.objects.filter(workspace=ws).delete()
    for i in range(args.messages):
        channel = "email" if i % 4 == 3 else "in_app"
        content = {"subject": f"Email {i}"} if channel == "email" else {"title": f"Msg {i}"}
        create_message(ws, channel, {**content, "body": "Hi", "audience": [FR, PRO, None][i % 3]})
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(username="bench@example.com").first()
    admin = admin or create_admin("bench@example.com", "bench passphrase long")
    client = Client()
    client.force_login(admin)
    session = client.session
    session["pavior_workspace_id"] = ws.pk
    session.save()
    one = Message.objects.filter(workspace=ws, channel="in_app").first()
    email = Message.objects.filter(workspace=ws, channel="email").first()
    assert one and email
    node = parse_workspace_filter(ws, FR)
    form = {"channel": "in_app", "fa": "country", "fo": "eq", "fv": "FR", "join": "and"}
    timed, summary = users_bench.timed, users_bench.summary
    cases = {
        f"/messages/ (list of {args.messages})": lambda: client.get("/messages/"),
        "/messages/<id>/ (message page)": lambda: client.get(f"/messages/{one.pk}/"),
        "/messages/<id>/edit/ (composer)": lambda: client.get(f"/messages/{one.pk}/edit/"),
        "/messages/<id>/edit/ (email composer)": lambda: client.get(f"/messages/{email.pk}/edit/"),
        "/messages/audience/ (live count, in-site)": lambda: client.post(
            "/messages/audience/", form
        ),
        "/messages/audience/ (email reach)": lambda: client.post(
            "/messages/audience/", {**form, "channel": "email"}
        ),
        "/messages/preview/": lambda: client.post(
            "/messages/preview/", {"channel": "in_app", "body": "Hi **there**\n\n- a\n- b"}
        ),
        "reference: users list, country is FR": lambda: client.get(
            "/?filter=" + quote(json.dumps(FR))
        ),
        "reference: bare count, country is FR": lambda: count_people(ws, node),
    }
    from django.db import connection

    print(f"{connection.vendor}, {ws.people.count():,} users, {args.runs} runs")
    for label, fn in cases.items():
        r = fn()
        assert not hasattr(r, "status_code") or r.status_code == 200, (label, r.status_code)
        print(f"  {label:42s} {summary(timed(fn, args.runs))}")


if __name__ == "__main__":
    main()
