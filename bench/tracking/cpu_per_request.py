"""Server CPU per request of the tracking intake, at a paced rate.

Throughput on a shared machine follows everyone else's load; the CPU the
server's processes spend per request (read from /proc before and after a
paced wrk run) follows it much less. Same set-up as run.py's tuned mode
(`pavior serve --no-worker --workers 2`, 10,000 users, ANALYZE), then for each
mode a 5 s wrk run at RATE requests/s.

    python bench/tracking/cpu_per_request.py [--modes noop,single] [--rate 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--modes", default="noop,single")
    ap.add_argument("--rate", type=float, default=300)
    args = ap.parse_args()
    env = {
        **os.environ,
        "PAVIOR_DATA_DIR": tempfile.mkdtemp(prefix="pavior-bench-cpu-"),
        "PAVIOR_LOG_LEVEL": "ERROR",
        **bench.UNLIMITED,
    }
    subprocess.run([bench.PAVIOR, "manage", "migrate", "-v0"], env=env, check=True)
    out = subprocess.run(
        [bench.PAVIOR, "workspace", "create", "Bench", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    app_id = json.loads(out)["app_id"]
    seed_env = {**env, "APP_ID": app_id, "USERS": str(bench.USERS)}
    subprocess.run(
        [bench.PAVIOR, "manage", "shell", "-c", bench.SEED],
        env=seed_env,
        check=True,
        capture_output=True,
    )
    port = bench.free_port()
    server = bench.start_server(env, port, 2)
    base = f"http://127.0.0.1:{port}"
    try:
        bench.wrk(base, "single", app_id, 3, 32, 1)  # warm-up
        pids = tree(server.pid)
        for mode in args.modes.split(","):
            before = cpu_seconds(pids)
            r = bench.wrk(base, mode, app_id, 5, 32, 1, args.rate)
            used = cpu_seconds(pids) - before
            print(
                f"{mode:6}  {r['rps']:5.0f} req/s  server CPU {1000 * used / (r['rps'] * 5):.3f} "
                f"ms/request  (p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms)",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
