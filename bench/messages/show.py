"""The bubble's server side under load (issue 11 speed targets).

Starts `pavior serve` on loopback against DATABASE_URL (PostgreSQL; SQLite
when unset), creates a workspace (identity verification off, so every call
reads its user's messages) with 10,000 users in three plans, then measures
with wrk in one run, against one server:

1. tracking single-event throughput with 50 live in-site messages of mixed
   audiences vs none, alternated (none, 50, none, 50, ...) by pausing and
   resuming the 50 and reported as medians: each request asks for the user's
   messages with the version it holds, as the snippet does, so the server
   runs candidates_for once per request; beside them, batches that do not
   ask (`noask`: a Segment call, the snippet before the bubble). The batches
   come from `--active` users (1,000), each many times, as heartbeats do;
2. "show" requests/s, each for a new (message, user) pair (every one records
   a display), beside the same-run reference: the CORS preflight of the same
   path (same server, socket and routing, no work);
3. the once-per-user guarantee: 50 concurrent shows of one pair, exactly one
   display recorded.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/pavior_bench \\
        python bench/messages/show.py [--seconds 10] [--connections 32] [--workers 2] [--rounds 3]

The database named in DATABASE_URL is dropped and created again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tracking"))
from run import PAVIOR, free_port, start_server  # noqa: E402  (bench/tracking/run.py)

USERS = 10_000
MESSAGES = 50

SEED = """
import os
from pavior.people.models import Person
from pavior.workspaces.models import Workspace
from pavior.workspaces.actions import update_workspace_settings
from pavior.people.actions import create_attribute
ws = Workspace.objects.get(app_id=os.environ["APP_ID"])
update_workspace_settings(ws, {"identity_verification": "off"})
create_attribute(ws, "plan", "string")
plans = ["free", "pro", "team"]
Person.objects.bulk_create(
    [Person(workspace=ws, external_id=f"user{i}", custom={"plan": plans[i % 3]})
     for i in range(1, int(os.environ["USERS"]) + 1)],
    ignore_conflicts=True, batch_size=1000,
)
from django.db import connection
with connection.cursor() as cur:
    cur.execute("ANALYZE") if connection.vendor == "postgresql" else None
"""

# 50 live messages, one audience in five each: everyone, pro, team, not free,
# pro or team; URL and time rules as a site would set them.
MAKE_MESSAGES = """
import os
from pavior.workspaces.models import Workspace
from pavior.messaging.actions import create_message
ws = Workspace.objects.get(app_id=os.environ["APP_ID"])
plan = lambda op, v: {"attribute": "plan", "op": op, "value": v}
audiences = [{}, plan("eq", "pro"), plan("eq", "team"), plan("ne", "free"),
             {"or": [plan("eq", "pro"), plan("eq", "team")]}]
everyone = []
for i in range(int(os.environ["MESSAGES"])):
    m = create_message(ws, "in_app", {
        "kind": "chat" if i % 2 else "announcement", "title": f"Message {i}",
        "body": f"Hello **{i}**, see [plans](https://shop.example/plans).",
        "sender_name": "Ada Lovelace", "audience": audiences[i % 5],
        "rules": {"and": [
            {"attribute": "current_page_url", "op": "contains", "value": f"/p{i}"},
            {"attribute": "time_on_current_page", "op": "gte", "value": 30}]},
    }, status="live")
    if i % 5 == 0:
        everyone.append(str(m.pk))
print(",".join(everyone))
"""

SET_STATUS = """
import os
from pavior.workspaces.models import Workspace
from pavior.messaging.actions import update_message
from pavior.messaging.models import Message
ws = Workspace.objects.get(app_id=os.environ["APP_ID"])
for m in Message.objects.filter(workspace=ws, channel="in_app").exclude(status="archived"):
    if m.status != os.environ["STATUS"]:
        update_message(ws, m.pk, {}, status=os.environ["STATUS"])
"""

# The version each plan class holds now (user i is class i % 3: user3, user1, user2).
VERSIONS = """
import os
from pavior.workspaces.models import Workspace
from pavior.people.models import Person
from pavior.messaging.targeting import candidates_for
ws = Workspace.objects.get(app_id=os.environ["APP_ID"])
print(",".join(candidates_for(ws, Person.objects.get(workspace=ws, external_id=f"user{u}")).version
               for u in (3, 1, 2)))
"""

COUNT_SHOWN = """
import os
from pavior.messaging.models import Delivery
print(Delivery.objects.filter(message_id=int(os.environ["MESSAGE"]),
                              person__external_id="user7").count())
"""


def shell(env: dict[str, str], code: str, **extra: str) -> str:
    out = subprocess.run(
        [PAVIOR, "manage", "shell", "-c", code],
        env={**env, **extra},
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def wrk(url: str, mode: str, seconds: int, connections: int, **extra: str) -> dict[str, float]:
    import re

    env = {
        **os.environ,
        "MODE": mode,
        "USERS": str(USERS),
        "RUN": uuid.uuid4().hex[:8],
        "THREADS": "1",
        **extra,
    }
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(HERE / "show.lua"), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    m = re.search(
        r"RESULT requests=(\d+) duration_us=(\d+) errors_status=(\d+) errors_other=(\d+) "
        r"p50_us=(\d+) p99_us=(\d+)",
        out,
    )
    assert m, out
    requests, duration, bad, other, p50, p99 = (int(x) for x in m.groups())
    return {
        "rps": requests / (duration / 1e6),
        "requests": requests,
        "non2xx": bad,
        "socket_errors": other,
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tracking", default="noask,none,fifty", help="tracking runs to make")
    ap.add_argument("--no-show", action="store_true", help="skip the show runs")
    ap.add_argument(
        "--active", type=int, default=1000, help="users on the site during the tracking runs"
    )
    args = ap.parse_args()
    data_dir = tempfile.mkdtemp(prefix="pavior-bench-")
    env = {**os.environ, "PAVIOR_DATA_DIR": data_dir, "PAVIOR_LOG_LEVEL": "ERROR"}
    env |= {
        "PAVIOR_RATE_LIMIT_TRACKING_PER_ADDRESS": "1000000000",
        "PAVIOR_RATE_LIMIT_TRACKING_PER_KEY": "1000000000",
    }
    db = "postgresql" if env.get("DATABASE_URL") else "sqlite"
    if db == "postgresql":
        admin, name = env["DATABASE_URL"].rsplit("/", 1)
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(
                ["psql", f"{admin}/postgres", "-qc", sql], check=True, capture_output=True
            )
    subprocess.run([PAVIOR, "manage", "migrate", "-v0"], env=env, check=True)
    out = subprocess.run(
        [PAVIOR, "workspace", "create", "Bench", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    app_id = json.loads(out)["app_id"]
    env["APP_ID"] = app_id
    shell(env, SEED, USERS=str(USERS))
    everyone = shell(env, MAKE_MESSAGES, MESSAGES=str(MESSAGES))
    port = free_port()
    server = start_server(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    n = args.connections
    try:
        print(
            f"database={db} workers={args.workers} connections={n} seconds={args.seconds} "
            f"cores={os.cpu_count()} load={os.getloadavg()[0]:.1f}",
            flush=True,
        )
        # 1. Tracking with 50 live messages vs none, alternated.
        runs: dict[str, list[float]] = {"noask": [], "none": [], "fifty": []}
        for _ in range(args.rounds):
            for label, status in (("noask", "paused"), ("none", "paused"), ("fifty", "live")):
                if label not in args.tracking.split(","):
                    continue
                shell(env, SET_STATUS, STATUS=status)
                versions = "" if label == "noask" else shell(env, VERSIONS)
                track = {"APP_ID": app_id, "VERSIONS": versions, "ACTIVE": str(args.active)}
                wrk(base, "track", 3, n, **track)  # warm: as between two heartbeats in life
                r = wrk(base, "track", args.seconds, n, **track)
                runs[label].append(r["rps"])
                print(
                    f"track {label:5} {r['rps']:7.0f} req/s (p50 {r['p50_ms']:.1f} ms, "
                    f"p99 {r['p99_ms']:.1f} ms, non-2xx {r['non2xx']})",
                    flush=True,
                )
        med = {k: statistics.median(v) if v else float("nan") for k, v in runs.items()}
        print(
            f"track median: not asking {med['noask']:.0f} req/s; asking with no live message "
            f"{med['none']:.0f} req/s; with 50 live messages {med['fifty']:.0f} req/s "
            f"({(med['fifty'] / med['none'] - 1) * 100:+.1f} % vs none)",
            flush=True,
        )
        if args.no_show:
            return
        # 2. "show" beside the preflight of the same path.
        shell(env, SET_STATUS, STATUS="live")
        extra = {"APP_ID": app_id, "MESSAGES": everyone}
        noop = wrk(base, "noop", args.seconds, n, **extra)
        show = wrk(base, "show", args.seconds, n, **extra)
        print(
            f"noop  {noop['rps']:7.0f} req/s (CORS preflight of /api/v1/messenger/show)\n"
            f"show  {show['rps']:7.0f} req/s, {show['requests']} displays recorded "
            f"(non-2xx {show['non2xx']}, p50 {show['p50_ms']:.1f} ms, "
            f"p99 {show['p99_ms']:.1f} ms) = {show['rps'] / noop['rps']:.2f} x the preflight",
            flush=True,
        )
        # 3. 50 concurrent shows of one pair (a message everyone may see, a user
        # no run above reached: pairs go message by message).
        message = everyone.split(",")[-1]
        body = json.dumps({"app_id": app_id, "user": {"id": "user7"}, "message_id": int(message)})

        def ask(_: int) -> int:
            return httpx.post(
                f"{base}/api/v1/messenger/show",
                content=body,
                headers={"Content-Type": "text/plain"},
                timeout=60,
            ).status_code

        with ThreadPoolExecutor(50) as pool:
            codes = list(pool.map(ask, range(50)))
        rows = shell(env, COUNT_SHOWN, MESSAGE=message)
        print(
            f"50 concurrent shows of one pair: {codes.count(200)} x 200, "
            f"{codes.count(409)} x 409 already_shown, delivery rows {rows}",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
