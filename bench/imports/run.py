"""Import benchmark: 1M rows x 10 columns, new users then a full re-import, with
references from the same run (bare COPY / executemany, naive ORM per row on 10k).

    python bench/imports/run.py [ROWS] [--postgres postgresql://postgres@127.0.0.1:5432/pavior_bench]
        [--index plan,seats] [--no-naive] [--no-sqlite]

`--index` first creates those attributes and copies them into the typed side
table (`pavior index create`), so every imported row also pays its triggers.

Each import runs as `pavior import` in a child process; its wall time and peak
RSS (wait4) are printed.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

print = functools.partial(print, flush=True)  # noqa: A001 - progress shows as it runs
HERE = Path(__file__).resolve().parent
INDEX = sys.argv[sys.argv.index("--index") + 1].split(",") if "--index" in sys.argv else []
PAVIOR = [sys.executable, "-m", "pavior.cli"]
MAPS = [
    "--map",
    "plan=plan:string",
    "--map",
    "source=source:string",
    "--map",
    "seats=seats:number",
    "--map",
    "renewal_on=renewal_on:date",
]


def child(args: list[str], env: dict[str, str]) -> tuple[float, float, str, str, float]:
    """Wall time, peak RSS, stdout, the stage times the import logs, and the
    CPU seconds of the import and its reader process (on SQLite all of the
    work; steadier than wall time on a shared machine)."""
    t = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=err)
        out = p.stdout.read().decode() if p.stdout else ""
        _, status, usage = os.wait4(p.pid, 0)
        secs = time.perf_counter() - t
        err.seek(0)
        log = err.read().decode(errors="replace")
    if status:
        raise SystemExit(f"{args} failed: {out} {log[-2000:]}")
    stages = next((ln.split(" stages: ", 1)[1] for ln in log.splitlines() if " stages: " in ln), "")
    return secs, usage.ru_maxrss / 1024, out, stages, usage.ru_utime + usage.ru_stime


def bench(db: str, path: Path, rows: int, url: str | None) -> None:
    data = Path(tempfile.mkdtemp(prefix="pv-bench-"))
    # DEBUG: the import logs its stage times, printed below.
    env = dict(os.environ, PAVIOR_DATA_DIR=str(data), PAVIOR_LOG_LEVEL="DEBUG")
    if url:
        import psycopg

        base, _, name = url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name}")
            c.execute(f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = url
    else:
        env.pop("DATABASE_URL", None)
    subprocess.run([*PAVIOR, "manage", "migrate", "-v0"], env=env, check=True)
    ws = json.loads(
        subprocess.run(
            [*PAVIOR, "workspace", "create", "B", "--json"],
            env=env,
            check=True,
            capture_output=True,
        ).stdout
    )["app_id"]
    for name in INDEX:
        kind = "number" if name == "seats" else "string"
        code = (
            "from pavior.people.actions import create_attribute; "
            "from pavior.workspaces.models import Workspace; "
            f"create_attribute(Workspace.objects.get(app_id={ws!r}), {name!r}, {kind!r})"
        )
        subprocess.run([*PAVIOR, "manage", "shell", "-c", code], env=env, check=True)
        subprocess.run(
            [*PAVIOR, "index", "create", name, "--workspace", ws],
            env=env,
            check=True,
            capture_output=True,
        )
    if INDEX:
        print(f"{db:10} typed copy of {', '.join(INDEX)} (triggers on every row)")
    for label in ("new users", "re-import (every row updates)"):
        if label.startswith("re-import"):
            # Change every row so that each one is really an update.
            alt = path.with_suffix(".v2.csv")
            if not alt.exists():
                with open(path) as src, open(alt, "w", newline="") as dst:
                    r, w = csv.reader(src), csv.writer(dst)
                    w.writerow(next(r))
                    for row in r:
                        row[7] = "changed"
                        w.writerow(row)
            file = alt
        else:
            file = path
        secs, rss, out, stages, cpu = child(
            [*PAVIOR, "import", str(file), "--workspace", ws, *MAPS, "--json"], env
        )
        s = json.loads(out)
        print(
            f"{db:10} {label:32} {secs:7.1f} s {rows / secs:10,.0f} rows/s  peak RSS "
            f"{rss:6.0f} MB  created={s['created']} updated={s['updated']}  CPU {cpu:.1f} s"
        )
        print(f"{db:10}   stages (s): {stages}")
        if url:
            print(f"{db:10}   users list 'email contains' right after: {contains_query(url)}")
    ref = reference(db, path, env, url)
    print(f"{db:10} {'reference: ' + ref[0]:32} {ref[1]:7.1f} s {rows / ref[1]:10,.0f} rows/s")
    if "--no-naive" in sys.argv:
        return
    naive = naive_orm(env, path, ws)
    print(
        f"{db:10} {'reference: naive ORM, 10k rows':32} {naive:7.1f} s "
        f"{10000 / naive:10,.0f} rows/s  (x100 = {naive * 100:,.0f} s for 1M)"
    )


def contains_query(url: str) -> str:
    """The users list's "email contains" (Django's icontains SQL), first page:
    the trigram GIN index answers it; a big pending list or no index shows."""
    import psycopg

    out = []
    with psycopg.connect(url, autocommit=True) as c:
        for term in ("user123456@", "r99999@ex"):
            t = time.perf_counter()
            rows = c.execute(
                "SELECT id FROM people_person WHERE UPPER(email::text) LIKE UPPER(%s) "
                "ORDER BY id LIMIT 50",
                [f"%{term}%"],
            ).fetchall()
            out.append(f"{term!r} {len(rows)} rows {(time.perf_counter() - t) * 1000:.0f} ms")
    return ", ".join(out)


def reference(db: str, path: Path, env: dict[str, str], url: str | None) -> tuple[str, float]:
    t = time.perf_counter()
    if url:
        import psycopg

        with psycopg.connect(url) as c, c.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE bare (id text, email text, name text, phone text, "
                "city text, country text, plan text, source text, seats text, "
                "renewal_on text)"
            )
            with open(path, "rb") as f, cur.copy("COPY bare FROM STDIN (FORMAT csv, HEADER)") as cp:
                while chunk := f.read(1 << 20):
                    cp.write(chunk)
        return "COPY into a bare table", time.perf_counter() - t
    conn = sqlite3.connect(Path(env["PAVIOR_DATA_DIR"]) / "bare.sqlite3")
    conn.execute(
        "CREATE TABLE bare (id, email, name, phone, city, country, plan, source, seats, renewal_on)"
    )
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r)
        conn.executemany("INSERT INTO bare VALUES (?,?,?,?,?,?,?,?,?,?)", r)
    conn.commit()
    return "executemany into a bare table", time.perf_counter() - t


def naive_orm(env: dict[str, str], path: Path, ws: str) -> float:
    code = f"""
import csv, itertools, time, os
os.environ['DJANGO_SETTINGS_MODULE'] = 'pavior.settings'
import django; django.setup()
from pavior.core.attributes import Trust
from pavior.people.actions import upsert_user
from pavior.workspaces.models import Workspace
w = Workspace.objects.get(app_id={ws!r})
t = time.perf_counter()
with open({str(path)!r}, newline='') as f:
    r = csv.DictReader(f)
    for row in itertools.islice(r, 10000):
        row['id'] = 'naive-' + row['id']; row['email'] = 'naive-' + row['email']
        upsert_user(w, {{k: v for k, v in row.items() if v}}, trust=Trust.IMPORT)
print(time.perf_counter() - t)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True
    ).stdout
    return float(out.decode().strip().splitlines()[-1])


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1_000_000
    url = sys.argv[sys.argv.index("--postgres") + 1] if "--postgres" in sys.argv else None
    path = Path(tempfile.gettempdir()) / f"pavior-bench-{rows}.csv"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(HERE / "make_file.py"), str(rows), str(path)], check=True
        )
    print(
        f"{rows:,} rows x 10 columns, {path.stat().st_size / 1e6:.0f} MB, cpus={os.cpu_count()}, "
        f"load={os.getloadavg()[0]:.1f}"
    )
    if "--no-sqlite" not in sys.argv:
        bench("sqlite", path, rows, None)
    if url:
        bench("postgresql", path, rows, url)


if __name__ == "__main__":
    main()
