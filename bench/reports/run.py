"""Seed 1M users with 10 custom attributes, then time every report kind and segment counts.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pavior_bench_reports \
        python bench/reports/run.py --users 1000000 --runs 7
    PAVIOR_DATA_DIR=/tmp/pavior-bench-reports python bench/reports/run.py --users 1000000

The users come from the foundation seeder (bench/foundation/seed.py: same names,
countries, plans, seats, dates), with five more custom attributes per row
(10 in all), loaded the same set-based way. Every report goes through the real
path (`pavior.segments.reports.report_for`: parse, filter compiler, grouping),
and each round also times the reference, a bare `count(*)` of the workspace,
interleaved, so machine noise hits them alike. `--skip-seed` reuses the data.

`--typed` first copies plan, seats, trial_started_at and source into the typed
side table (people.IndexedValue, what `pavior index create` does), timing each
backfill, then times the same queries and checks each answer against the same
query over the JSON column (the side table switched off for that one call).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "foundation"))

import seed as foundation  # noqa: E402  (bench/foundation/seed.py)

EXTRA = [
    ("score", "number"),
    ("trial_started_at", "date"),
    ("source", "string"),
    ("referrals", "number"),
    ("beta", "boolean"),
]
SOURCES = ["ads", "organic", "referral", "partner", "event", "newsletter", "social"]
CUSTOM = foundation.COLUMNS.index("custom")
DAY = 86400


def with_extra(rows: Iterator[tuple], seed: int, now: datetime) -> Iterator[tuple]:
    """The foundation's rows with five more custom attributes in their JSON."""
    rng = random.Random(seed)
    now_epoch = int(now.timestamp())
    for row in rows:
        custom = json.loads(row[CUSTOM])
        if rng.random() < 0.9:
            custom["score"] = round(rng.gauss(50, 15), 2)
        if rng.random() < 0.7:
            custom["trial_started_at"] = now_epoch - rng.randint(0, 400 * DAY)
        if rng.random() < 0.8:
            custom["source"] = rng.choice(SOURCES)
        if rng.random() < 0.5:
            custom["referrals"] = int(rng.expovariate(1 / 3))
        custom["beta"] = rng.random() < 0.2
        yield (*row[:CUSTOM], json.dumps(custom), *row[CUSTOM + 1 :])


def seed_users(users: int) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from pavior.people.actions import create_attribute
    from pavior.workspaces.actions import create_workspace

    foundation.fresh_database()
    call_command("migrate", interactive=False, verbosity=0)
    now = timezone.now().replace(microsecond=0).astimezone(UTC)
    ws = create_workspace(foundation.MAIN).workspace
    for name, kind in foundation.ATTRIBUTES + EXTRA:
        create_attribute(ws, name, kind)
    t0 = time.perf_counter()
    n = foundation.load(with_extra(foundation.people(ws.pk, users, "u", 20240501, now), 7, now))
    print(f"seeded {n} users (10 custom attributes) in {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    foundation.analyze()
    print(f"vacuum/analyze: {time.perf_counter() - t0:.1f}s", flush=True)


REPORTS: dict[str, Any] = {
    "country": {"kind": "breakdown", "attribute": "country"},
    "plan": {"kind": "breakdown", "attribute": "plan"},
    "seats": {"kind": "histogram", "attribute": "seats", "bins": 20},
    "trial": {"kind": "timeseries", "attribute": "trial_started_at", "interval": "month"},
}
SEGMENTS: dict[str, Any] = {
    "seg_a": {"attribute": "plan", "op": "eq", "value": "pro"},
    "seg_b": {
        "and": [
            {"attribute": "seats", "op": "gte", "value": 10},
            {"attribute": "seats", "op": "lte", "value": 100},
            {"attribute": "last_seen_at", "op": "less_than_days_ago", "value": 30},
            {"attribute": "country", "op": "eq", "value": "Germany"},
        ]
    },
    "seg_c": {"attribute": "email", "op": "contains", "value": "smith"},
}
LABELS = {
    "ref": "reference: count(*) of the workspace (raw SQL)",
    "country": "breakdown of country (built-in string)",
    "plan": "breakdown of plan (custom string)",
    "seats": "histogram of seats (custom number, 20 bins)",
    "trial": "time series of trial_started_at (custom date), 12 months",
    "country_pro": "breakdown of country over segment (a) plan = pro",
    "seg_a": "segment count (a) plan = pro",
    "seg_b": "segment count (b) seats 10..100 AND seen < 30 d AND country",
    "seg_c": "segment count (c) email contains 'smith'",
}


def build(workspace: Any) -> dict[str, Callable[[], Any]]:
    from django.db import connection

    from pavior.segments.actions import create_segment
    from pavior.segments.models import Segment
    from pavior.segments.queries import count_people
    from pavior.segments.reports import report_for
    from pavior.segments.saved import parse_workspace_filter

    Segment.objects.filter(workspace=workspace).delete()
    ids = {key: create_segment(workspace, key, data).pk for key, data in SEGMENTS.items()}

    def reference() -> int:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM people_person WHERE workspace_id = %s", [workspace.pk]
            )
            return int(cur.fetchone()[0])

    def report(body: dict[str, Any]) -> Callable[[], Any]:
        def run() -> Any:
            return report_for(workspace, body).as_json()

        return run

    def segment_count(segment_id: int) -> Callable[[], int]:
        def run() -> int:
            return count_people(
                workspace, parse_workspace_filter(workspace, {"segment": segment_id})
            )

        return run

    queries: dict[str, Callable[[], Any]] = {"ref": reference}
    queries.update({key: report(body) for key, body in REPORTS.items()})
    queries["country_pro"] = report(
        {"kind": "breakdown", "attribute": "country", "filter": {"segment": ids["seg_a"]}}
    )
    queries.update({key: segment_count(i) for key, i in ids.items()})
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument(
        "--typed",
        action="store_true",
        help="First copy the custom attributes reported on into the typed side table "
        "(what `pavior index create` does), then time, and check every answer against "
        "the JSON column's.",
    )
    parser.add_argument(
        "--index",
        action="store_true",
        help="First build the expression indexes of the custom attributes reported on "
        "(what `pavior index create` does), then time.",
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
    import django

    django.setup()
    from django.db import connection

    from pavior.workspaces.models import Workspace

    if not args.skip_seed:
        seed_users(args.users)
    else:  # the data may predate a migration (e.g. the side table's)
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    workspace = Workspace.objects.get(name=foundation.MAIN)
    if args.index:
        from pavior.segments.indexes import ensure_expression_index

        for name, kind in [("plan", "string"), ("seats", "number"), ("trial_started_at", "date")]:
            t0 = time.perf_counter()
            ensure_expression_index(workspace.pk, name, kind)
            print(f"index on {name}: {time.perf_counter() - t0:.1f}s", flush=True)
        foundation.analyze()
    if args.typed:
        typed_backfill(workspace)
    queries = build(workspace)
    if args.typed:  # each query also over the JSON column, timed right after it
        queries = {
            name: fn
            for key, fn in queries.items()
            for name, fn in (
                [(key, fn)] if key == "ref" else [(key, fn), (key + "/json", over_json(fn))]
            )
        }
    samples: dict[str, list[float]] = {k: [] for k in queries}
    results: dict[str, Any] = {}
    for i in range(args.warmup + args.runs):
        for key, fn in queries.items():
            t0 = time.perf_counter()
            results[key] = fn()
            if i >= args.warmup:
                samples[key].append((time.perf_counter() - t0) * 1000)
            if key.endswith("/json") and results[key] != results[key[:-5]]:
                raise SystemExit(f"{key}: {results[key]} != {results[key[:-5]]}")
    indexed = "with" if args.index else "without"
    typed = ", typed side table (each query then over JSON: /json)" if args.typed else ""
    print(
        f"\n{connection.vendor}, {indexed} expression indexes{typed}, "
        f"{args.runs} runs after {args.warmup} warm-up round(s); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'query':<67} {'rows/n':>8} {'p50 ms':>8} {'max ms':>8} {'x ref':>6}")
    ref = statistics.median(samples["ref"])
    for key, values in samples.items():
        shown = results[key]
        size = len(shown["rows"]) if isinstance(shown, dict) else shown
        base, _, tail = key.partition("/")
        label = LABELS[base] + (" /json" if tail else "")
        print(
            f"{label:<67} {size:>8} {statistics.median(values):>8.1f} "
            f"{max(values):>8.1f} {statistics.median(values) / ref:>6.2f}"
        )
    if args.typed:
        print("every answer over the side table equals the one over the JSON column")


def typed_backfill(workspace: Any) -> None:
    """Mark the reported custom attributes indexed and copy their values (timed)."""
    from django.db import connection

    from pavior.people.indexed import backfill
    from pavior.people.models import AttributeDefinition

    for name in ("plan", "seats", "trial_started_at", "source"):
        d = AttributeDefinition.objects.get(workspace=workspace, name=name)
        if d.index_state == "ready":
            print(f"typed copy of {name}: already there", flush=True)
            continue
        AttributeDefinition.objects.filter(pk=d.pk).update(index_state="building")
        t0 = time.perf_counter()
        backfill(d.pk, batch=100_000)
        print(f"typed copy of {name}: {time.perf_counter() - t0:.1f}s", flush=True)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("VACUUM ANALYZE people_indexedvalue")
        else:
            cur.execute("ANALYZE")


def over_json(fn: Callable[[], Any]) -> Callable[[], Any]:
    """`fn` with the side table switched off: filters and reports read the JSON column."""
    from pavior.segments.queries import Compiler

    def run() -> Any:
        original = Compiler.indexed_id
        Compiler.indexed_id = lambda self, attr: None  # type: ignore[method-assign]
        try:
            return fn()
        finally:
            Compiler.indexed_id = original  # type: ignore[method-assign]

    return run


if __name__ == "__main__":
    main()
