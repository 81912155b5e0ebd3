"""What the side table's triggers cost a write to people, same run, interleaved.

    PAVIOR_DATA_DIR=/tmp/pavior-bench-trig python bench/reports/trigger_cost.py 50000
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pavior_bench_trig \\
        python bench/reports/trigger_cost.py 50000

Three rounds of: ROWS users inserted with one `executemany` (as the import's
and the seeder's set-based writes do), then one UPDATE changing every one's
`custom`, (1) without the triggers, (2) with them and nothing indexed, (3)
with `plan` and `seats` indexed. Prints wall time and, for SQLite (which runs
in this process), CPU time, which machine load does not inflate. Only a
database whose name contains "bench" is used.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from pavior.people.actions import create_attribute
    from pavior.people.indexed import drop_statements, mark_indexed, unmark_indexed
    from pavior.people.indexed import trigger_statements as create_statements
    from pavior.workspaces.actions import create_workspace

    if "bench" not in str(settings.DATABASES["default"]["NAME"]):
        sys.exit("the database's name must contain 'bench'")
    call_command("migrate", verbosity=0)
    ws = create_workspace(f"trig-{time.time_ns()}").workspace
    for name, kind in [("plan", "string"), ("seats", "number"), ("note", "string")]:
        create_attribute(ws, name, kind)
    vendor = connection.vendor
    merge = (
        'custom || \'{"plan": "team"}\'::jsonb'
        if vendor == "postgresql"
        else "json_set(custom, '$.plan', 'team')"
    )

    def load(prefix: str) -> tuple[float, float, float, float]:
        data = [
            (ws.pk, f"{prefix}{i}", json.dumps({"plan": "pro", "seats": i % 50, "note": "x"}))
            for i in range(rows)
        ]
        sql = (
            "INSERT INTO people_person (workspace_id, external_id, custom, created_at, "
            "updated_at, total_visits, total_time_spent, email_subscription) "
            "VALUES (%s, %s, %s, '2024-01-01', '2024-01-01', 0, 0, true)"
        )
        t, c = time.perf_counter(), time.process_time()
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(sql, data)
        insert = (time.perf_counter() - t, time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"UPDATE people_person SET custom = {merge} WHERE workspace_id = %s "
                "AND external_id LIKE %s",
                [ws.pk, prefix + "%"],
            )
        update = (time.perf_counter() - t, time.process_time() - c)
        return insert[0], insert[1], update[0], update[1]

    def triggers(on: bool) -> None:
        with connection.cursor() as cur:
            for sql in drop_statements(vendor) + (create_statements(vendor) if on else []):
                cur.execute(sql)

    results: dict[str, list[tuple[float, ...]]] = {}
    for round_ in range(3):
        triggers(False)
        results.setdefault("no triggers", []).append(load(f"n{round_}_"))
        triggers(True)
        results.setdefault("triggers, nothing indexed", []).append(load(f"t{round_}_"))
        for name in ("plan", "seats"):
            mark_indexed(ws.pk, name)  # no backfill needed: the rows are new
        results.setdefault("triggers, plan + seats indexed", []).append(load(f"i{round_}_"))
        for name in ("plan", "seats"):
            unmark_indexed(ws.pk, name)
    print(f"{vendor}, {rows:,} users per load, medians of 3 rounds, load {os.getloadavg()[0]:.1f}")
    for label, samples in results.items():
        m = [statistics.median(s[i] for s in samples) for i in range(4)]
        cpu = f" (cpu {m[1]:.2f} s)" if vendor == "sqlite" else ""
        ucpu = f" (cpu {m[3]:.2f} s)" if vendor == "sqlite" else ""
        print(f"{label:32} insert {m[0]:6.2f} s{cpu}   update custom {m[2]:6.2f} s{ucpu}")


if __name__ == "__main__":
    main()
