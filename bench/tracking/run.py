"""Tracking intake benchmark: saturation throughput and latency at half load.

Starts `pavior serve` on loopback against SQLite (default) or DATABASE_URL,
creates a workspace with 10,000 users, then for the no-op reference,
single-event requests and 50-event batches (same server, same run) measures
requests/s at saturation with wrk, and p50/p99 latency with wrk paced to half
of that rate (track.lua's delay(): exponential gaps per connection).

The no-op reference (`noop`) is the CORS preflight of /api/v1/track, sent with
the same body as a single-event request: the same server, socket and routing
into the intake's ASGI app, with no parsing and no database. Pavior itself has
no endpoint that exists only for the benchmark.

The `defaults` mode measures what a user runs instead: `pavior serve` as the
README starts it (no flags, a new data dir, SQLite, the worker, default
logging), a workspace made with `pavior workspace create`, and no users yet:
the 10,000 user ids are new at first and then return. It prints, for that
server, the CORS preflight (reference), single page events while the users
are new then returning (the first run), and single events once they all
return (a second run). The only setting it changes is raising the tracking
rate limits out of reach (every request comes from one address, far over the
per-address default), so they keep counting and their cost is measured.

    python bench/tracking/run.py [--seconds 10] [--connections 32] [--workers 2] [--threads 1]
                                 [--modes defaults,noop,single,batch] [--index plan]
`--index NAME` creates that custom string attribute and copies it into the typed
side table (`pavior index create`) first, so the people table's triggers are
there (the events write no custom values: updates skip them by their WHEN test).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from fold_lag import FoldLagProbe

HERE = Path(__file__).parent
PAVIOR = str(Path(sys.executable).parent / "pavior")
USERS = 10_000
SEED = """
import os
from pavior.people.models import Person
from pavior.workspaces.models import Workspace
ws = Workspace.objects.get(app_id=os.environ["APP_ID"])
Person.objects.bulk_create(
    [Person(workspace=ws, external_id=f"user{i}") for i in range(1, int(os.environ["USERS"]) + 1)],
    ignore_conflicts=True, batch_size=1000,
)
# Statistics as autovacuum would keep them: without them PostgreSQL plans the
# person lookup on a wrong index (2.4 ms instead of 0.05 ms with 10k rows).
from django.db import connection
with connection.cursor() as cur:
    cur.execute("ANALYZE")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], port: int, workers: int | None) -> subprocess.Popen:
    """`pavior serve` tuned for the bench, or as the README starts it (workers None)."""
    cmd = [PAVIOR, "serve", "--port", str(port)]
    if workers is not None:
        cmd += ["--no-worker", "--workers", str(workers)]
    return launch(cmd, env, port)


def launch(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    """Start a server command and wait until it answers on `port` (bench/tracking/servers.py
    starts other servers than `pavior serve` with it)."""
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/pavior.js", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not start: {' '.join(cmd)}")


def wrk(
    url: str, mode: str, app_id: str, seconds: int, connections: int, threads: int, rate: float = 0
) -> dict:
    env = {
        **os.environ,
        "MODE": mode,
        "APP_ID": app_id,
        "USERS": str(USERS),
        "RUN": uuid.uuid4().hex[:8],
        "RATE": str(rate),
        "CONNECTIONS": str(connections),
    }
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(HERE / "track.lua"),
        url,
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(
        r"RESULT requests=(\d+) duration_us=(\d+) errors_status=(\d+) errors_other=(\d+) "
        r"p50_us=(\d+) p99_us=(\d+)",
        out,
    )
    assert m, out
    requests, duration, bad, other, p50, p99 = (int(x) for x in m.groups())
    return {
        "requests": requests,
        "rps": requests / (duration / 1e6),
        "non2xx": bad,
        "socket_errors": other,
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
    }


# Raised out of reach (the load comes from one address), still counting.
UNLIMITED = {
    "PAVIOR_RATE_LIMIT_TRACKING_PER_ADDRESS": "1000000000",
    "PAVIOR_RATE_LIMIT_TRACKING_PER_KEY": "1000000000",
}


def fresh_postgres(url: str) -> None:
    """Drop and create the database `url` names (the bench's own)."""
    admin, name = url.rsplit("/", 1)
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", f"{admin}/postgres", "-qc", sql], check=True, capture_output=True)


def run_defaults(args: argparse.Namespace) -> None:
    """`pavior serve` as a user starts it, with users that are new, then return.

    On SQLite (the default), or on the PostgreSQL database DATABASE_URL names
    (dropped and created anew): what a user who set only DATABASE_URL runs."""
    data_dir = tempfile.mkdtemp(prefix="pavior-bench-defaults-")
    url = os.environ.get("DATABASE_URL", "")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAVIOR_")}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env |= {"PAVIOR_DATA_DIR": data_dir, **UNLIMITED}
    if args.fold:
        env["PAVIOR_FOLD_IN_WORKER"] = "true"
    if url:
        fresh_postgres(url)
        env["DATABASE_URL"] = url
    database = url or str(Path(data_dir) / "pavior.sqlite3")
    port = free_port()
    server = start_server(env, port, None)  # migrates the new data dir
    base = f"http://127.0.0.1:{port}"
    try:
        out = subprocess.run(
            [PAVIOR, "workspace", "create", "Bench", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        app_id = json.loads(out)["app_id"]
        c, t, secs = args.connections, args.threads, args.seconds
        print(
            f"defaults: `pavior serve` (no flags{', folder on' if args.fold else ''}), "
            "new data dir, "
            f"{'postgresql' if url else 'sqlite'}, connections={c} "
            f"wrk_threads={t} seconds={secs} cores={os.cpu_count()} "
            f"load={os.getloadavg()[0]:.1f}",
            flush=True,
        )
        with FoldLagProbe(base, app_id, database) as lag_new:
            new = wrk(base, "single", app_id, secs, c, t)
        ref = wrk(base, "noop", app_id, secs, c, t)
        back = wrk(base, "single", app_id, secs, c, t)
        with FoldLagProbe(base, app_id, database) as lag_half:
            half = wrk(base, "single", app_id, secs, c, t, back["rps"] / 2)
        batch = wrk(base, "batch", app_id, secs, c, t)
        for label, r in (("new then returning", new), ("returning", back)):
            print(
                f"defaults  single, {label:18} {r['rps']:7.0f} req/s "
                f"({100 * r['rps'] / ref['rps']:.1f} % of noop; non-2xx {r['non2xx']}, "
                f"socket errors {r['socket_errors']}, p50 {r['p50_ms']:.1f} ms, "
                f"p99 {r['p99_ms']:.1f} ms)",
                flush=True,
            )
        print(
            f"defaults  batch of 50               {batch['rps'] * 50:7.0f} events/s "
            f"(non-2xx {batch['non2xx']}, p99 {batch['p99_ms']:.1f} ms)",
            flush=True,
        )
        print(
            f"defaults  noop (reference)          {ref['rps']:7.0f} req/s  |  returning at "
            f"{back['rps'] / 2:.0f} req/s (achieved {half['rps']:.0f}): p50 "
            f"{half['p50_ms']:.1f} ms, p99 {half['p99_ms']:.1f} ms, non-2xx {half['non2xx']}",
            flush=True,
        )
        print(f"defaults  at saturation, new users: {lag_new.summary()}", flush=True)
        print(f"defaults  at half load:             {lag_half.summary()}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=20)


def bench_env() -> dict[str, str]:
    """The tuned runs' environment: a new data dir, quiet logs, limits out of reach."""
    data_dir = tempfile.mkdtemp(prefix="pavior-bench-")
    env = {**os.environ, "PAVIOR_DATA_DIR": data_dir, "PAVIOR_LOG_LEVEL": "ERROR"}
    # The load comes from one address, far over the per-address limit: raise the
    # limits out of the way but keep them counting, so their cost is measured.
    return env | UNLIMITED


def setup_database(env: dict[str, str]) -> str:
    """A new, migrated database: PostgreSQL's is dropped and made anew. Its vendor."""
    db = "postgresql" if env.get("DATABASE_URL") else "sqlite"
    if db == "postgresql":
        fresh_postgres(env["DATABASE_URL"])
    subprocess.run([PAVIOR, "manage", "migrate", "-v0"], env=env, check=True)
    return db


def seeded_workspace(env: dict[str, str], name: str = "Bench") -> str:
    """A new workspace with the USERS users already there; its app_id."""
    out = subprocess.run(
        [PAVIOR, "workspace", "create", name, "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    app_id = json.loads(out)["app_id"]
    # The 10k users exist before the runs: they measure tracking, not sign-up.
    seed_env = {**env, "APP_ID": app_id, "USERS": str(USERS)}
    subprocess.run(
        [PAVIOR, "manage", "shell", "-c", SEED], env=seed_env, check=True, capture_output=True
    )
    return app_id


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (each takes a core)")
    ap.add_argument("--modes", default="defaults,noop,single,batch")
    ap.add_argument(
        "--fold",
        action="store_true",
        help="defaults with PAVIOR_FOLD_IN_WORKER=true: the worker applies page views",
    )
    ap.add_argument("--index", default="", help="a custom attribute to copy into the side table")
    args = ap.parse_args()
    modes = args.modes.split(",")
    if "defaults" in modes:
        run_defaults(args)
        modes.remove("defaults")
        if not modes:
            return
    env = bench_env()
    db = setup_database(env)
    app_id = seeded_workspace(env)
    if args.index:
        code = (
            "from pavior.people.actions import create_attribute; "
            "from pavior.workspaces.models import Workspace; "
            f"create_attribute(Workspace.objects.get(app_id={app_id!r}), {args.index!r}, 'string')"
        )
        subprocess.run([PAVIOR, "manage", "shell", "-c", code], env=env, check=True)
        subprocess.run(
            [PAVIOR, "index", "create", args.index, "--workspace", app_id],
            env=env,
            check=True,
            capture_output=True,
        )
    port = free_port()
    server = start_server(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        wrk(base, "single", app_id, 3, args.connections, args.threads)  # warm-up
        print(
            f"database={db} "
            f"workers={args.workers} connections={args.connections} "
            f"wrk_threads={args.threads} seconds={args.seconds} cores={os.cpu_count()} "
            f"typed_copy={args.index or '-'} "
            f"load={os.getloadavg()[0]:.1f}"
        )
        for mode in modes:
            sat = wrk(base, mode, app_id, args.seconds, args.connections, args.threads)
            half_rate = sat["rps"] / 2
            half = wrk(base, mode, app_id, args.seconds, args.connections, args.threads, half_rate)
            events = 50 if mode == "batch" else 1
            print(
                f"{mode:6}  saturation {sat['rps']:7.0f} req/s = {sat['rps'] * events:7.0f} "
                f"events/s (non-2xx {sat['non2xx']}, socket errors {sat['socket_errors']}, "
                f"p50 {sat['p50_ms']:.1f} ms, p99 {sat['p99_ms']:.1f} ms)  |  "
                f"at {half_rate:.0f} req/s (achieved {half['rps']:.0f}): "
                f"p50 {half['p50_ms']:.1f} ms, p99 {half['p99_ms']:.1f} ms, "
                f"non-2xx {half['non2xx']}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
