"""Time the foundation queries on a seeded database (see seed.py), p50/p95 over N runs.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pavior_bench \
        .venv/bin/python bench/foundation/run.py --runs 25
    PAVIOR_DATA_DIR=/tmp/pavior-bench .venv/bin/python bench/foundation/run.py --runs 25

Every query goes through the real code path: the attribute lookup, then
`parse_filter` / `parse_sort`, then `count_people` / `search_people`, then
`serialize_person` for the page. Each round runs the reference (a bare
`count(*)` of the workspace) and every query once, interleaved, so machine
noise hits them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

PAGE_COLUMNS = [
    "id",
    "email",
    "name",
    "city",
    "country",
    "last_seen_at",
    "total_visits",
    "plan",
    "seats",
    "renewal_at",
]

FILTERS: dict[str, Any] = {
    "a": {"attribute": "plan", "op": "eq", "value": "pro"},
    "b": {
        "and": [
            {"attribute": "seats", "op": "gte", "value": 10},
            {"attribute": "seats", "op": "lte", "value": 100},
            {"attribute": "last_seen_at", "op": "less_than_days_ago", "value": 30},
            {"attribute": "country", "op": "eq", "value": "Germany"},
        ]
    },
    "c": {"attribute": "email", "op": "contains", "value": "smith"},
    # Not asked for: the same kind of count as (a) at lower match rates, to show
    # how the cost follows the number of matching users.
    "a2": {"attribute": "plan", "op": "eq", "value": "enterprise"},
    "a3": {"attribute": "company", "op": "eq", "value": "Company 4242"},
}
LABELS = {
    "ref": "reference: count(*) of the workspace (raw SQL)",
    "a": "(a) count, custom string eq (plan = pro)",
    "b": "(b) count, seats 10..100 AND last seen < 30 days AND country eq",
    "c": "(c) count, email contains 'smith'",
    "a2": "(a2) count, custom string eq, rarer value (plan = enterprise)",
    "a3": "(a3) count, custom string eq, rare value (company)",
    "d": "(d) page of 50 by last_seen_at desc, 10 columns serialised",
    "d_api": "(d') same page via POST /api/v1/users/search (incl. total)",
}


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def build(workspace: Any, api_key: str | None) -> dict[str, Callable[[], Any]]:
    from django.db import connection
    from django.test import Client

    from pavior.core.filters import parse_filter, parse_sort
    from pavior.people.queries import all_attributes, serialize_person
    from pavior.segments.queries import count_people, search_people

    def reference() -> int:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM people_person WHERE workspace_id = %s", [workspace.pk]
            )
            return int(cur.fetchone()[0])

    def counter(data: Any) -> Callable[[], int]:
        def run() -> int:
            lookup = {a.name: a for a in all_attributes(workspace)}.get
            return count_people(workspace, parse_filter(data, lookup))

        return run

    def page() -> int:
        attrs = all_attributes(workspace)
        by_name = {a.name: a for a in attrs}
        sort = parse_sort({"attribute": "last_seen_at", "direction": "desc"}, by_name.get)
        result = search_people(workspace, None, sort, limit=50, with_total=False)
        shown = [by_name[n] for n in PAGE_COLUMNS]
        rows = [serialize_person(p, shown) for p in result.people]
        json.dumps(rows)
        return len(rows)

    queries: dict[str, Callable[[], Any]] = {"ref": reference}
    queries.update({key: counter(data) for key, data in FILTERS.items()})
    queries["d"] = page
    if api_key:
        client = Client()
        body = json.dumps({"sort": {"attribute": "last_seen_at", "direction": "desc"}, "limit": 50})

        def api() -> int:
            response = client.post(
                "/api/v1/users/search",
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {api_key}",
            )
            assert response.status_code == 200, response.content[:300]
            return len(response.json()["users"])

        queries["d_api"] = api
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-api", action="store_true", help="Skip the REST endpoint row.")
    parser.add_argument("--explain", action="store_true", help="Print the query plans first.")
    parser.add_argument("--json", help="Also write the figures to this file.")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
    import django

    django.setup()
    from django.db import connection

    from pavior.workspaces.actions import create_api_key
    from pavior.workspaces.models import Workspace

    workspace = Workspace.objects.get(name="bench-main")
    second = Workspace.objects.get(name="bench-second")
    api_key = None if args.no_api else create_api_key(workspace, name="bench")
    queries = build(workspace, api_key)
    if args.explain:
        explain(workspace)

    # Scoping: the same filters over the small workspace must count only its own users.
    scoped = build(second, None)
    for key in ("ref", "a", "b", "c", "a2", "a3"):
        print(f"scope check {key}: main={queries[key]()} second={scoped[key]()}")

    samples: dict[str, list[float]] = {k: [] for k in queries}
    results: dict[str, Any] = {}
    for i in range(args.warmup + args.runs):
        for key, fn in queries.items():
            t0 = time.perf_counter()
            results[key] = fn()
            elapsed = (time.perf_counter() - t0) * 1000
            if i >= args.warmup:
                samples[key].append(elapsed)

    print(f"\n{connection.vendor}, {args.runs} runs after {args.warmup} warm-up rounds")
    print(f"{'query':<66} {'result':>9} {'p50 ms':>8} {'p95 ms':>8}")
    figures = {}
    for key, values in samples.items():
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        figures[key] = {"result": results[key], "p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
        print(f"{LABELS[key]:<66} {results[key]:>9} {p50:>8.1f} {p95:>8.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"vendor": connection.vendor, "runs": args.runs, "figures": figures}, f)


def explain(workspace: Any) -> None:
    """The plan of each query as the app compiles it."""
    from pavior.core.filters import parse_filter, parse_sort
    from pavior.people.queries import attribute_lookup
    from pavior.segments.queries import filtered_people

    lookup = attribute_lookup(workspace)
    for key, data in FILTERS.items():
        qs, _ = filtered_people(workspace, parse_filter(data, lookup))
        print(f"--- {key}: {qs.query}")
        print(qs.explain())
    sort = parse_sort({"attribute": "last_seen_at", "direction": "desc"}, lookup)
    assert sort is not None
    from django.db.models import F

    qs, _ = filtered_people(workspace, None)
    qs = qs.order_by(F("last_seen_at").desc(nulls_last=True), "external_id")[:51]
    print(f"--- d: {qs.query}")
    print(qs.explain())


if __name__ == "__main__":
    main()
