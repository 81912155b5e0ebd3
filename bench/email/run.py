"""Email sending benchmark: 100,000 recipients through `pavior worker` to an aiosmtpd sink.

Same run, same sink (a separate process on loopback, as a mail server would be):
- reference: a bare smtplib loop, one connection, sending prepared emails of the
  same size as fast as the sink takes them;
- Pavior: an email message goes live (its audience queued: timed), then
  `pavior worker` sends it (PAVIOR_EMAIL_RATE=0); emails/s from the worker's
  start to the last row `sent`, and the worker's peak RSS;
- the tracking intake meanwhile: p50/p99 of POST /api/v1/track (wrk, paced at
  --track-rate, bench/tracking/track.lua) while idle and during the send.

    python bench/email/run.py [--recipients 100000] [--reference 20000] [--track-rate 100]

SQLite by default; DATABASE_URL=postgresql://... for PostgreSQL (the database
must exist and be empty: it is migrated here).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
PAVIOR = [sys.executable, "-m", "pavior.cli"]

SEED = """
import os
from pavior.people.models import Person
from pavior.workspaces.models import Workspace
ws = Workspace.objects.get(app_id=os.environ["APP_ID"])
n = int(os.environ["USERS"])
for start in range(0, n, 20000):
    Person.objects.bulk_create(
        [Person(workspace=ws, external_id=f"user{i}", email=f"user{i}@bench.example")
         for i in range(start + 1, min(n, start + 20000) + 1)],
        batch_size=2000,
    )
from django.db import connection
with connection.cursor() as cur:
    cur.execute("ANALYZE")
"""
GO_LIVE = """
import time
from pavior.messaging.actions import create_message
from pavior.workspaces.models import Workspace
body = "Hello,\\n\\nOur **spring sale** starts today: [see the offers](https://shop.example/sale).\\n\\n" * 3
t = time.perf_counter()
m = create_message(Workspace.objects.get(), "email", {"subject": "Spring sale", "body": body},
                   status="live")
print("QUEUED", m.pk, time.perf_counter() - t)
"""
SAMPLE = """
from pavior.messaging import mail
from pavior.messaging.models import Delivery, Message
m = Message.objects.get()
d = Delivery.objects.filter(message=m).select_related("person").first()
out = mail.Batch(mail.prepare(m)).copy(d.pk, d.person_id, d.person.email)
import sys
sys.stdout.buffer.write(out.raw)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sink_main(port: int) -> None:
    """The sink process: accept everything, count it, report on SIGTERM."""
    from aiosmtpd.controller import Controller

    class Counter:
        n = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            Counter.n += len(envelope.rcpt_tos)
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("READY", flush=True)
    done.wait()
    controller.stop()
    print(f"RECEIVED {Counter.n}", flush=True)


def reference(port: int, sample: bytes, count: int) -> float:
    """emails/s of a bare smtplib loop: one connection, the same email each time."""
    conn = smtplib.SMTP("127.0.0.1", port)
    started = time.perf_counter()
    for i in range(count):
        conn.sendmail("hello@acme.example", [f"ref{i}@bench.example"], sample)
    took = time.perf_counter() - started
    conn.quit()
    return count / took


def wrk(url: str, app_id: str, seconds: int, rate: float) -> dict[str, float]:
    env = dict(
        os.environ, MODE="single", APP_ID=app_id, USERS="1000", RATE=str(rate), CONNECTIONS="8"
    )
    out = subprocess.run(
        ["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", str(ROOT / "bench/tracking/track.lua"), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(r"RESULT requests=(\d+) .*p50_us=(\d+) p99_us=(\d+)", out)
    assert m, out
    return {"requests": int(m[1]), "p50_ms": int(m[2]) / 1000, "p99_ms": int(m[3]) / 1000}


def rss_mb(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    m = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(m[1]) / 1024 if m else 0.0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def counts(env: dict[str, str]) -> dict[str, int]:
    sql = "SELECT state, COUNT(*) FROM messaging_delivery GROUP BY state"
    if env.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            return dict(conn.execute(sql).fetchall())
    db = Path(env["PAVIOR_DATA_DIR"]) / "pavior.sqlite3"
    with closing(sqlite3.connect(db, timeout=30)) as conn:
        return dict(conn.execute(sql).fetchall())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--reference", type=int, default=20_000)
    parser.add_argument("--track-rate", type=float, default=100)
    parser.add_argument("--track-seconds", type=int, default=10)
    args = parser.parse_args()
    if args.sink:
        sink_main(args.sink)
        return

    smtp_port, web_port = free_port(), free_port()
    data = tempfile.mkdtemp(prefix="pavior-bench-email-")
    env = dict(
        os.environ,
        PAVIOR_DATA_DIR=data,
        PAVIOR_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        PAVIOR_EMAIL_FROM="Acme <hello@acme.example>",
        PAVIOR_BASE_URL="https://pavior.acme.example",
        PAVIOR_EMAIL_RATE="0",
        PAVIOR_RATE_LIMITS="false",
        USERS=str(args.recipients),
    )
    run = lambda *a, **kw: subprocess.run(  # noqa: E731
        [*PAVIOR, *a], env={**env, **kw}, check=True, capture_output=True
    )
    db = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    print(f"database: {db}; recipients: {args.recipients:,}; load: {os.getloadavg()[0]:.1f}")
    sink = subprocess.Popen(
        [sys.executable, __file__, "--sink", str(smtp_port)], stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout and sink.stdout.readline().strip() == "READY"
    procs: list[subprocess.Popen[Any]] = [sink]
    try:
        run("manage", "migrate", "-v0")
        app_id = json.loads(run("workspace", "create", "Bench", "--json").stdout)["app_id"]
        t = time.perf_counter()
        run("manage", "shell", "-c", SEED, APP_ID=app_id)
        print(f"seeded {args.recipients:,} users in {time.perf_counter() - t:.1f} s")

        server = subprocess.Popen(
            [*PAVIOR, "serve", "--no-worker", "--port", str(web_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(server)
        url = f"http://127.0.0.1:{web_port}"
        for _ in range(200):
            try:
                httpx.get(f"{url}/pavior.js", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        idle = wrk(url, app_id, args.track_seconds, args.track_rate)
        print(f"/api/v1/track idle: p50 {idle['p50_ms']:.1f} ms, p99 {idle['p99_ms']:.1f} ms")

        out = run("manage", "shell", "-c", GO_LIVE).stdout.decode()
        queued = float(out.split("QUEUED")[1].split()[1])
        print(f"going live queued {counts(env).get('pending', 0):,} rows in {queued:.2f} s")
        sample = run("manage", "shell", "-c", SAMPLE).stdout
        ref = reference(smtp_port, sample, args.reference)
        print(f"reference: bare smtplib loop, {len(sample):,}-byte email: {ref:,.0f} emails/s")

        started = time.perf_counter()
        worker = subprocess.Popen(
            [*PAVIOR, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        procs.append(worker)
        during: dict[str, float] = {}
        load = threading.Thread(
            target=lambda: during.update(wrk(url, app_id, args.track_seconds, args.track_rate))
        )
        time.sleep(1.5)
        load.start()
        peak = 0.0
        cpu = 0.0
        while True:
            peak = max(peak, rss_mb(worker.pid))
            cpu = max(cpu, cpu_seconds(worker.pid))
            state = counts(env)
            if (
                state.get("sent", 0) + state.get("failed", 0) + state.get("skipped", 0)
                >= args.recipients
            ):
                break
            if worker.poll() is not None:
                raise SystemExit(
                    f"the worker died: {worker.stderr.read() if worker.stderr else ''}"
                )
            time.sleep(0.25)
        took = time.perf_counter() - started
        load.join()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        rate = args.recipients / took
        print(
            f"pavior worker: {args.recipients:,} emails in {took:.1f} s = {rate:,.0f} emails/s "
            f"({rate / ref:.0%} of the reference); states {state}; peak RSS {peak:.0f} MB; "
            f"worker CPU {cpu * 1000 / args.recipients:.2f} ms per email"
        )
        print(
            f"/api/v1/track during the send: p50 {during['p50_ms']:.1f} ms, "
            f"p99 {during['p99_ms']:.1f} ms ({during['p99_ms'] / idle['p99_ms']:.1f}x idle)"
        )
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        if sink.stdout:
            rest = sink.stdout.read()
            print(f"sink: {rest.strip()} (reference + Pavior)")
        print(f"load after: {os.getloadavg()[0]:.1f}")
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
