"""Seed a benchmark database with realistic people, set-based (never per-row ORM).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pavior_bench \
        .venv/bin/python bench/foundation/seed.py --users 1000000 --second 100000
    PAVIOR_DATA_DIR=/tmp/pavior-bench .venv/bin/python bench/foundation/seed.py ...

Workspaces and attribute definitions go through the real actions
(`create_workspace`, `create_attribute`); the rows themselves are generated in
Python from a fixed seed (so both databases get byte-identical data) and loaded
with COPY on PostgreSQL and one `executemany` transaction on SQLite, shaped
exactly like `pavior.people.actions` stores them: custom JSON keyed by
attribute name, dates as epoch seconds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

MAIN = "bench-main"
SECOND = "bench-second"
# Dates are spread back from the moment of seeding, so "seen in the last 30
# days" filters select the same share of users whenever the bench runs soon after.
DAY = 86400

FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony "
    "Betty Mark Margaret Donald Sandra Steven Ashley Paul Kimberly Andrew Emily Joshua Donna "
    "Kenneth Michelle Kevin Dorothy Brian Carol George Amanda Timothy Melissa Ronald Deborah "
    "Jose Lucia Hans Greta Pierre Camille Raj Priya Yuki Kenji"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Muller Schmidt "
    "Dubois Sato Tanaka Kumar Singh"
).split()
DOMAINS = [("gmail.com", 40), ("yahoo.com", 12), ("outlook.com", 12), ("icloud.com", 6)] + [
    (f"corp{i}.example.com", 1) for i in range(30)
]
# Skewed like real traffic: a few countries hold most users.
COUNTRIES = [
    ("United States", 30, ["New York", "San Francisco", "Chicago", "Austin", "Seattle"]),
    ("United Kingdom", 10, ["London", "Manchester", "Leeds"]),
    ("Germany", 8, ["Berlin", "Munich", "Hamburg"]),
    ("India", 8, ["Bengaluru", "Mumbai", "Delhi"]),
    ("France", 6, ["Paris", "Lyon"]),
    ("Brazil", 5, ["Sao Paulo", "Rio de Janeiro"]),
    ("Canada", 5, ["Toronto", "Vancouver"]),
    ("Japan", 4, ["Tokyo", "Osaka"]),
    ("Spain", 3, ["Madrid", "Barcelona"]),
    ("Netherlands", 3, ["Amsterdam"]),
    ("Australia", 3, ["Sydney", "Melbourne"]),
    ("Poland", 2, ["Warsaw"]),
    ("Mexico", 2, ["Mexico City"]),
    ("Sweden", 2, ["Stockholm"]),
    ("Italy", 2, ["Rome", "Milan"]),
]
PLANS = [("free", 50), ("starter", 25), ("pro", 15), ("business", 7), ("enterprise", 3)]
ATTRIBUTES = [
    ("plan", "string"),
    ("seats", "number"),
    ("renewal_at", "date"),
    ("is_active", "boolean"),
    ("company", "string"),
]
COLUMNS = (
    "workspace_id external_id email name first_name last_name phone city country total_visits "
    "last_seen_at last_activity_at first_known_at signed_up_at email_subscription "
    "total_time_spent custom created_at updated_at"
).split()


def _picker(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    values = [v for v, _ in weighted]
    cum = list(itertools.accumulate(w for _, w in weighted))
    return lambda: rng.choices(values, cum_weights=cum)[0]


def people(workspace_id: int, count: int, prefix: str, seed: int, now: datetime) -> Iterator[tuple]:
    """Rows in COLUMNS order, with aware UTC datetimes."""
    rng = random.Random(seed)
    domain = _picker(rng, DOMAINS)
    country = _picker(rng, [((c, cities), w) for c, w, cities in COUNTRIES])
    plan = _picker(rng, PLANS)
    now_epoch = int(now.timestamp())
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        has_email = rng.random() < 0.95
        email = f"{first}.{last}{i}@{domain()}".lower() if has_email else None
        place = country() if rng.random() < 0.97 else (None, [None])
        # Most users were seen recently: an exponential with a 60-day mean, capped at a year.
        seen_days = min(rng.expovariate(1 / 60), 364.9) if rng.random() < 0.95 else None
        last_seen = now - timedelta(days=seen_days) if seen_days is not None else None
        signed_up = now - timedelta(days=(seen_days or 0) + rng.uniform(0, 1000))
        signed_up = signed_up.replace(microsecond=0)
        if last_seen is not None:
            last_seen = last_seen.replace(microsecond=0)
        visits = int(rng.expovariate(1 / 20)) if last_seen else 0
        custom: dict[str, Any] = {}
        if rng.random() < 0.95:
            custom["plan"] = plan()
        if rng.random() < 0.9:
            custom["seats"] = min(int(rng.paretovariate(1.2)), 5000)
        if rng.random() < 0.8:
            custom["renewal_at"] = now_epoch + rng.randint(-365 * DAY, 365 * DAY)
        custom["is_active"] = rng.random() < 0.7
        if rng.random() < 0.85:
            custom["company"] = f"Company {rng.randint(1, 20000)}"
        yield (
            workspace_id,
            f"{prefix}{i:07d}",
            email,
            f"{first} {last}",
            first,
            last,
            None,
            rng.choice(place[1]),
            place[0],
            visits,
            last_seen,
            last_seen,
            signed_up,
            signed_up,
            rng.random() < 0.9,
            float(visits * rng.randint(30, 600)),
            json.dumps(custom),  # the separators Django itself writes
            signed_up,
            last_seen or signed_up,
        )


def load(rows: Iterator[tuple]) -> int:
    """COPY (PostgreSQL) or one executemany transaction (SQLite)."""
    from django.db import connection, transaction

    from pavior.people.models import Person

    table = Person._meta.db_table
    cols = ", ".join(COLUMNS)
    n = 0
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cur:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        return n
    adapt = connection.ops.adapt_datetimefield_value
    dt_at = [i for i, c in enumerate(COLUMNS) if c.endswith("_at")]

    def sqlite_rows() -> Iterator[list]:
        nonlocal n
        for row in rows:
            out = list(row)
            for i in dt_at:
                out[i] = adapt(out[i])
            n += 1
            yield out

    marks = ", ".join(["%s"] * len(COLUMNS))
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", sqlite_rows())
    return n


def fresh_database() -> None:
    """Start from an empty bench database, so no half-deleted data skews the figures.

    Only a database whose name says "bench" is wiped, never the real one.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    name = str(db["NAME"])
    if "bench" not in name:
        sys.exit(f"Refusing to wipe {name!r}: the bench database's name must contain 'bench'")
    if db["ENGINE"].endswith("postgresql"):
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("DROP SCHEMA public CASCADE")
            cur.execute("CREATE SCHEMA public")
    else:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(name + suffix):
                os.remove(name + suffix)


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # VACUUM also sets the visibility map, which index-only counts need.
            cur.execute("VACUUM ANALYZE people_person")
        else:
            cur.execute("ANALYZE")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--second", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from pavior.people.actions import create_attribute
    from pavior.workspaces.actions import create_workspace

    fresh_database()
    call_command("migrate", interactive=False, verbosity=0)
    now = timezone.now().replace(microsecond=0).astimezone(UTC)
    started = time.perf_counter()
    for name, count, prefix, seed in (
        (MAIN, args.users, "u", args.seed),
        (SECOND, args.second, "s", args.seed + 1),
    ):
        ws = create_workspace(name).workspace
        for attr_name, attr_type in ATTRIBUTES:
            create_attribute(ws, attr_name, attr_type)
        t0 = time.perf_counter()
        n = load(people(ws.pk, count, prefix, seed, now))
        print(f"{name}: {n} users loaded in {time.perf_counter() - t0:.1f}s", flush=True)
    t0 = time.perf_counter()
    analyze()
    print(f"vacuum/analyze: {time.perf_counter() - t0:.1f}s")
    print(f"{connection.vendor}: seeded in {time.perf_counter() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
