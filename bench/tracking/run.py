"""Tracking intake benchmark: saturation throughput (wrk) and latency at half load.

Starts `pavior serve` on loopback against SQLite (default) or DATABASE_URL,
creates a workspace, then for single-event requests, 50-event batches and the
no-op endpoint (same server, same run) measures requests/s at saturation with
wrk, and p50/p99 latency with an open-loop generator at half that rate.

    python bench/tracking/run.py [--seconds 10] [--connections 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

HERE = Path(__file__).parent
PAVIOR = str(Path(sys.executable).parent / "pavior")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [PAVIOR, "serve", "--no-worker", "--port", str(port), "--workers", str(workers)],
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
    raise SystemExit("server did not start")


def wrk(url: str, mode: str, app_id: str, seconds: int, connections: int, run: str) -> dict:
    env = {**os.environ, "MODE": mode, "APP_ID": app_id, "USERS": "10000", "RUN": run}
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(HERE / "track.lua"),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(
        r"RESULT requests=(\d+) duration_us=(\d+) errors_status=(\d+) errors_other=(\d+)", out
    )
    assert m, out
    requests, duration, bad, other = (int(x) for x in m.groups())
    return {"rps": requests / (duration / 1e6), "non2xx": bad, "socket_errors": other}


def body(mode: str, app_id: str, user: int, run: str, i: int) -> bytes:
    n = 50 if mode == "batch" else 1
    events = [
        {
            "message_id": f"{run}-h-{i}-{k}",
            "type": "page" if k == 0 else "heartbeat",
            "url": f"https://shop.example/p{k}",
        }
        for k in range(n)
    ]
    return json.dumps({"app_id": app_id, "user": {"id": f"user{user}"}, "events": events}).encode()


async def open_loop(base: str, mode: str, app_id: str, rate: float, seconds: float) -> dict:
    """Send at a fixed rate regardless of responses; latency of each request."""
    import random

    path = "/api/v1/track/noop" if mode == "noop" else "/api/v1/track"
    run = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def one(i: int) -> None:
            nonlocal errors
            data = body(mode, app_id, random.randint(1, 10000), run, i)
            t = time.perf_counter()
            r = await client.post(path, content=data, headers={"Content-Type": "text/plain"})
            latencies.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors += 1

        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        achieved = total / (time.perf_counter() - start)
    q = statistics.quantiles(latencies, n=100)
    return {
        "rate": rate,
        "achieved": achieved,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    data_dir = tempfile.mkdtemp(prefix="pavior-bench-")
    env = {**os.environ, "PAVIOR_DATA_DIR": data_dir, "PAVIOR_LOG_LEVEL": "ERROR"}
    db = "postgresql" if env.get("DATABASE_URL") else "sqlite"
    if db == "postgresql":
        url = env["DATABASE_URL"]
        admin, name = url.rsplit("/", 1)
        subprocess.run(
            ["psql", f"{admin}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["psql", f"{admin}/postgres", "-qc", f"CREATE DATABASE {name}"],
            check=True,
            capture_output=True,
        )
    subprocess.run([PAVIOR, "manage", "migrate", "-v0"], env=env, check=True)
    app_id = json.loads(
        subprocess.run(
            [PAVIOR, "workspace", "create", "Bench", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )["app_id"]
    port = free_port()
    server = start_server(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        # Warm-up: creates most of the 10k users so the runs measure tracking, not sign-up.
        wrk(base, "single", app_id, 5, args.connections, "warm")
        print(
            f"database={db} workers={args.workers} connections={args.connections} "
            f"seconds={args.seconds} cores={os.cpu_count()}"
        )
        for mode in ("noop", "single", "batch"):
            sat = wrk(base, mode, app_id, args.seconds, args.connections, uuid.uuid4().hex[:8])
            half = asyncio.run(open_loop(base, mode, app_id, max(sat["rps"] / 2, 1), args.seconds))
            events = 50 if mode == "batch" else 1
            print(
                f"{mode:6}  saturation {sat['rps']:8.0f} req/s = {sat['rps'] * events:8.0f} "
                f"events/s (non-2xx {sat['non2xx']}, socket errors {sat['socket_errors']})  |  "
                f"at {half['rate']:.0f} req/s (achieved {half['achieved']:.0f}): "
                f"p50 {half['p50_ms']:.1f} ms, p99 {half['p99_ms']:.1f} ms, "
                f"errors {half['errors']}"
            )
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
