"""Server time to render the users list (10 columns + a filter) over many users.

Usage (SQLite, a fresh data dir):
    PAVIOR_DATA_DIR=/tmp/pv-bench python bench/web/bench_users_list.py --users 1000000
PostgreSQL:
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pavior_web_bench \
        PAVIOR_DATA_DIR=/tmp/pv-bench-pg python bench/web/bench_users_list.py --users 1000000

Users are generated set-based (a recursive CTE on SQLite, generate_series on
PostgreSQL) in one statement, never through the ORM per row. Each page is timed
in-process with Django's test Client next to a reference: the bare count query
of the same filter, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from urllib.parse import quote

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
os.environ.setdefault("PAVIOR_LOGIN_THROTTLING", "false")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from pavior.core.filters import parse_filter  # noqa: E402
from pavior.people.actions import create_attribute  # noqa: E402
from pavior.people.models import Person  # noqa: E402
from pavior.people.queries import attribute_lookup  # noqa: E402
from pavior.segments.queries import count_people  # noqa: E402
from pavior.web.listing import DEFAULT_COLUMNS, save_columns  # noqa: E402
from pavior.workspaces.actions import create_admin, create_workspace  # noqa: E402
from pavior.workspaces.models import Workspace  # noqa: E402

COUNTRIES = ["FR", "DE", "US", "GB", "ES", "IT", "NL", "BE", "SE", "PL"]


def generate(ws: Workspace, n: int) -> None:
    table = Person._meta.db_table
    now = time.time()
    if connection.vendor == "postgresql":
        sql = f"""
        INSERT INTO {table} (workspace_id, external_id, email, name, city, country,
            total_visits, last_seen_at, signed_up_at, first_known_at, email_subscription,
            total_time_spent, custom, created_at, updated_at)
        SELECT %s, 'u' || i, 'user' || i || '@example.com', 'User ' || i,
            'City ' || (i %% 500), (ARRAY{COUNTRIES!r})[1 + i %% 10], i %% 97,
            to_timestamp(%s - (i %% 100000) * 60), to_timestamp(%s - (i %% 700) * 86400),
            now(), true, (i %% 3600)::float,
            jsonb_build_object('plan', CASE WHEN i %% 3 = 0 THEN 'pro' ELSE 'free' END,
                               'seats', i %% 50, 'renewsOn', %s + (i %% 365) * 86400),
            now(), now()
        FROM generate_series(1, %s) AS i
        """
        params = [ws.pk, now, now, now, n]
    else:
        sql = f"""
        WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %s)
        INSERT INTO {table} (workspace_id, external_id, email, name, city, country,
            total_visits, last_seen_at, signed_up_at, first_known_at, email_subscription,
            total_time_spent, custom, created_at, updated_at)
        SELECT %s, 'u' || i, 'user' || i || '@example.com', 'User ' || i,
            'City ' || (i % 500), json_extract(%s, '$[' || (i % 10) || ']'), i % 97,
            datetime(%s - (i % 100000) * 60, 'unixepoch'),
            datetime(%s - (i % 700) * 86400, 'unixepoch'),
            datetime('now'), 1, i % 3600,
            json_object('plan', CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END,
                        'seats', i % 50, 'renewsOn', %s + (i % 365) * 86400),
            datetime('now'), datetime('now')
        FROM seq
        """
        params = [n, ws.pk, json.dumps(COUNTRIES), now, now, now]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql.replace("%%", "%") if connection.vendor != "postgresql" else sql, params)
    with connection.cursor() as cur:
        # As autovacuum would on a live server: the visibility map lets
        # PostgreSQL count from an index without reading the table.
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def timed(fn, runs: int) -> list[float]:
    fn()  # warm-up: caches, connections, template loading
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"p50 {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   (n={len(ms)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    call_command("migrate", verbosity=0)
    ws = Workspace.objects.filter(name="bench").first()
    if ws is None or ws.people.count() != args.users:
        Workspace.objects.filter(name="bench").delete()
        ws = create_workspace("bench").workspace
        for name, kind in (("plan", "string"), ("seats", "number"), ("renewsOn", "date")):
            create_attribute(ws, name, kind)
        t0 = time.perf_counter()
        generate(ws, args.users)
        print(f"generated {args.users:,} users in {time.perf_counter() - t0:.1f} s")
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(username="bench@example.com").first()
    admin = admin or create_admin("bench@example.com", "bench passphrase long")
    save_columns(admin, ws, [*DEFAULT_COLUMNS, "plan", "seats", "renewsOn"])  # 10 columns
    client = Client()
    client.force_login(admin)
    session = client.session
    session["pavior_workspace_id"] = ws.pk
    session.save()
    lookup = attribute_lookup(ws)
    cases = {
        "country is FR (indexed built-in)": {"attribute": "country", "op": "eq", "value": "FR"},
        "plan is pro AND seats >= 40 (custom JSON)": {
            "and": [
                {"attribute": "plan", "op": "eq", "value": "pro"},
                {"attribute": "seats", "op": "gte", "value": 40},
            ]
        },
    }
    print(f"{connection.vendor}, {ws.people.count():,} users, 10 columns, {args.runs} runs")
    for label, f in cases.items():
        url = "/?filter=" + quote(json.dumps(f))
        resp = client.get(url)
        assert resp.status_code == 200, resp.content[:500]
        assert resp.content.count(b"<tr>") >= 50
        node = parse_filter(f, lookup)
        page_ms = timed(lambda url=url: client.get(url), args.runs)
        count_ms = timed(lambda node=node: count_people(ws, node), args.runs)
        print(f"  {label}")
        print(f"    users list page : {summary(page_ms)}")
        print(f"    bare count query: {summary(count_ms)}")
    empty_ms = timed(lambda: client.get("/attributes/preview/?name=x"), args.runs)
    print(f"  reference: near-empty view (name preview): {summary(empty_ms)}")


if __name__ == "__main__":
    main()
