"""Server CPU per request of the tracking intake, at a paced rate.

Throughput on a shared machine follows everyone else's load; the CPU the
server's processes spend per request (read from /proc before and after a
paced wrk run) follows it much less. Same set-up as run.py's tuned mode
(`pavior serve --no-worker --workers 2`, 10,000 users, ANALYZE), then for each
mode a 5 s wrk run at RATE requests/s.

    python bench/tracking/cpu_per_request.py [--modes noop,single] [--rate 300]
    python bench/tracking/cpu_per_request.py --defaults [--fold] --rate 1000

`--defaults` measures `pavior serve` as a user starts it instead (run.py's
defaults mode: a new data dir, its worker, users new at first): the CPU of the
web process and of the worker (where the folder applies tracked events,
pavior.tracking.folder) apart, and on PostgreSQL that of the database server's
processes too; `--fold` turns the folder on (PAVIOR_FOLD_IN_WORKER=true).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import run as bench  # noqa: E402


def tree(pid: int) -> set[int]:
    """The process and all its descendants."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    pairs = [tuple(int(x) for x in line.split()) for line in out.strip().splitlines()]
    found, grew = {pid}, True
    while grew:
        grew = False
        for child, parent in pairs:
            if parent in found and child not in found:
                found.add(child)
                grew = True
    return found


def cpu_seconds(pids: set[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> set[int]:
    out = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
    return {int(x) for x in out.split()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--modes", default="noop,single")
    ap.add_argument("--rate", type=float, default=300)
    ap.add_argument("--defaults", action="store_true", help="`pavior serve` as a user starts it")
    ap.add_argument("--fold", action="store_true", help="with --defaults: the folder on")
    args = ap.parse_args()
    env = {
        **os.environ,
        "PAVIOR_DATA_DIR": tempfile.mkdtemp(prefix="pavior-bench-cpu-"),
        "PAVIOR_LOG_LEVEL": "ERROR",
        **bench.UNLIMITED,
    }
    if env.get("DATABASE_URL"):
        bench.fresh_postgres(env["DATABASE_URL"])
    if args.fold:
        env["PAVIOR_FOLD_IN_WORKER"] = "true"
    subprocess.run([bench.PAVIOR, "manage", "migrate", "-v0"], env=env, check=True)
    out = subprocess.run(
        [bench.PAVIOR, "workspace", "create", "Bench", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    app_id = json.loads(out)["app_id"]
    if not args.defaults:
        seed_env = {**env, "APP_ID": app_id, "USERS": str(bench.USERS)}
        subprocess.run(
            [bench.PAVIOR, "manage", "shell", "-c", bench.SEED],
            env=seed_env,
            check=True,
            capture_output=True,
        )
    port = bench.free_port()
    server = bench.start_server(env, port, None if args.defaults else 2)
    base = f"http://127.0.0.1:{port}"
    try:
        bench.wrk(base, "single", app_id, 3, 32, 1)  # warm-up (and, in defaults, new users)
        pids = tree(server.pid)
        workers = {p for p in pids if "worker" in Path(f"/proc/{p}/cmdline").read_text()}
        database = postgres_pids() if env.get("DATABASE_URL") else set()
        for mode in args.modes.split(","):
            before = [cpu_seconds(pids - workers), cpu_seconds(workers), cpu_seconds(database)]
            r = bench.wrk(base, mode, app_id, 5, 32, 1, args.rate)
            # The folder may still be applying the last events: wait for it.
            time.sleep(1)
            after = [cpu_seconds(pids - workers), cpu_seconds(workers), cpu_seconds(database)]
            web, worker, db = (
                1000 * (b - a) / (r["rps"] * 5) for a, b in zip(before, after, strict=True)
            )
            print(
                f"{mode:6}  {r['rps']:5.0f} req/s  CPU per request: web {web:.3f} ms, "
                f"worker {worker:.3f} ms, database server {db:.3f} ms, "
                f"all {web + worker + db:.3f} ms  (p50 {r['p50_ms']:.1f} ms, "
                f"p99 {r['p99_ms']:.1f} ms)",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
