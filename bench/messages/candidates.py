"""Deciding one user's candidate messages: 50 live messages, mixed audiences, 1M users.

    PAVIOR_DATA_DIR=/tmp/pavior-bench-messages \
        python bench/messages/candidates.py --users 1000000
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pavior_bench_messages \
        python bench/messages/candidates.py --users 1000000

The users come from the foundation seeder (bench/foundation/seed.py: plans,
seats, renewal dates, countries, visits, last seen), loaded set-based; the 50
messages and 3 segments go through the real actions. Their audiences mix
built-in and custom conditions of every type, "N days ago", segments (one
naming another) and and/or groups. Then, for a sample of users, in this
process, interleaved round by round so machine noise hits them alike:

- **reference**: one cached lookup (`cache.get` of a small entry, the same
  cache backend `candidates_for` uses);
- **warm**: `targeting.candidates_for(workspace, person)` with the user's
  entry cached (the common case: nothing changed since the last page view);
- **cold**: the same after the user's plan changed (in memory, as a tracking
  request's fresh row would have it): every audience evaluated again, the
  user's shown messages read, the entry written back;
- **naive**: the SQL answer the fast path replaced (one query per message,
  `audience_matches`), on fewer users.

`--skip-seed` reuses the data (the messages are made again each run).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "foundation"))

import seed as foundation  # noqa: E402  (bench/foundation/seed.py)

COUNTRIES = ["United States", "Germany", "France", "India", "Japan"]
PLANS = ["free", "starter", "pro", "business", "enterprise"]


def audiences(segments: list[int]) -> list[Any]:
    """50 audiences: built-in and custom conditions, days ago, segments, and/or."""
    out: list[Any] = [{}]
    for i in range(49):
        plan = {"attribute": "plan", "op": "eq", "value": PLANS[i % 5]}
        seats = {"attribute": "seats", "op": "gte", "value": 1 + i % 7}
        country = {"attribute": "country", "op": "eq", "value": COUNTRIES[i % 5]}
        seen = {"attribute": "last_seen_at", "op": "less_than_days_ago", "value": 7 + i}
        renewal = {"attribute": "renewal_at", "op": "after", "value": f"2025-{1 + i % 12:02d}-01"}
        email = {"attribute": "email", "op": "ends_with", "value": "gmail.com"}
        company = {"attribute": "company", "op": "contains", "value": str(i % 9 + 1)}
        active = {"attribute": "is_active", "op": "eq", "value": i % 2 == 0}
        visits = {"attribute": "total_visits", "op": "gt", "value": i % 30}
        segment = {"segment": segments[i % len(segments)]}
        shapes = [
            plan,
            {"and": [plan, seats]},
            {"or": [country, {"and": [plan, active]}]},
            {"and": [seen, {"or": [email, company]}]},
            {"and": [segment, visits]},
            {"or": [segment, renewal]},
            {"and": [country, {"attribute": "email_subscription", "op": "eq", "value": True}]},
            {"and": [{"attribute": "plan", "op": "ne", "value": "free"}, renewal, active]},
        ]
        out.append(shapes[i % len(shapes)])
    return out


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall µs, CPU µs of this thread): on a shared machine the CPU time leaves
    out the waits for a core that other processes' work causes."""
    w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
    fn()
    return (time.perf_counter_ns() - w0) / 1000, (time.thread_time_ns() - c0) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2000, help="users timed")
    parser.add_argument("--naive-sample", type=int, default=10)
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
    import django

    django.setup()
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from pavior.messaging import targeting
    from pavior.messaging.actions import create_message
    from pavior.messaging.models import Message
    from pavior.people.actions import create_attribute
    from pavior.people.models import Person
    from pavior.segments.actions import create_segment
    from pavior.workspaces.actions import create_workspace
    from pavior.workspaces.models import Workspace

    if not args.skip_seed:
        foundation.fresh_database()
        call_command("migrate", interactive=False, verbosity=0)
        now = timezone.now().replace(microsecond=0).astimezone(UTC)
        ws = create_workspace(foundation.MAIN).workspace
        for name, kind in foundation.ATTRIBUTES:
            create_attribute(ws, name, kind)
        t0 = time.perf_counter()
        n = foundation.load(foundation.people(ws.pk, args.users, "u", args.seed, now))
        foundation.analyze()
        print(f"seeded {n:,} users in {time.perf_counter() - t0:.0f}s", flush=True)
    ws = Workspace.objects.get(name=foundation.MAIN)
    users = Person.objects.filter(workspace=ws).count()
    cache = caches["candidates"]  # the backend candidates_for uses

    Message.objects.filter(workspace=ws).delete()
    from pavior.segments.models import Segment

    Segment.objects.filter(workspace=ws).delete()
    pros = create_segment(ws, "Paying", {"attribute": "plan", "op": "ne", "value": "free"})
    big = create_segment(ws, "Big", {"attribute": "seats", "op": "gte", "value": 10})
    both = create_segment(ws, "Big payers", {"and": [{"segment": pros.pk}, {"segment": big.pk}]})
    for i, audience in enumerate(audiences([pros.pk, big.pk, both.pk])):
        data = {"kind": "announcement", "title": f"M{i}", "body": "Hello", "audience": audience}
        create_message(ws, "in_app", data, status="live")
    live = Message.objects.filter(workspace=ws, status="live").count()

    rng = random.Random(args.seed)
    ids = rng.sample(range(users), min(args.sample, users))
    people = list(Person.objects.filter(workspace=ws, external_id__in=[f"u{i:07d}" for i in ids]))
    cache.set("bench:reference", (1, ("a", 2), None, (1, 2, 3), frozenset()), None)

    # The compile (once per workspace version, per process), timed alone.
    compiles = []
    for _ in range(5):
        targeting.clear_compiled()
        compiles.append(
            timed(lambda: targeting._compiled_for(ws, targeting.workspace_version(ws.pk)))
        )

    reference: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    cold: list[tuple[float, float]] = []
    found = []
    for person in people:  # one entry cached per user first
        found.append(len(targeting.candidates_for(ws, person).messages))
    lookup = partial(cache.get, "bench:reference")
    for _ in range(3):
        for person in people:
            reference.append(timed(lookup))
            warm.append(timed(partial(targeting.candidates_for, ws, person)))
            custom = dict(person.custom or {})
            plan = custom.get("plan")
            custom["plan"] = PLANS[(PLANS.index(plan) + 1) % 5] if plan in PLANS else PLANS[0]
            person.custom = custom  # the user's plan changed
            cold.append(timed(partial(targeting.candidates_for, ws, person)))

    naive: list[tuple[float, float]] = []

    def naive_candidates(person: Any) -> list[Any]:
        return [
            m
            for m in targeting.live_in_app_messages(ws)
            if targeting.audience_matches_sql(ws, m, person)
        ]

    for person in people[: args.naive_sample]:
        naive.append(timed(partial(naive_candidates, person)))

    ref_wall = statistics.median(w for w, _ in reference)
    ref_cpu = statistics.median(c for _, c in reference)
    backend = cache.__class__.__name__
    print(f"\n{connection.vendor}, {users:,} users, {live} live messages, cache {backend}")
    print(f"candidates per user: median {statistics.median(found)}, max {max(found)}")
    compile_ms = statistics.median(w for w, _ in compiles) / 1000
    print(f"compile 50 audiences (once per workspace version): median {compile_ms:,.1f} ms")
    head = f"{'':30} {'wall p50':>9} {'p99':>9} {'ratio':>7} {'CPU p50':>9} {'p99':>9} {'ratio':>7}"
    print(head + "   (µs)")
    for name, samples in (
        ("reference: one cached lookup", reference),
        ("warm: cached candidates", warm),
        ("cold: attributes changed", cold),
        ("naive: SQL per message", naive),
    ):
        wall, cpu = [w for w, _ in samples], [c for _, c in samples]
        w50, c50 = statistics.median(wall), statistics.median(cpu)
        print(
            f"{name:30} {w50:9,.1f} {percentile(wall, 0.99):9,.1f} {w50 / ref_wall:6,.1f}x"
            f" {c50:9,.1f} {percentile(cpu, 0.99):9,.1f} {c50 / ref_cpu:6,.1f}x"
        )


if __name__ == "__main__":
    main()
