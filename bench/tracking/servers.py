"""Uvicorn against granian for the tracking intake, and what the JSON parser costs.

    python bench/tracking/servers.py [--seconds 5] [--rounds 3] [--workers 2] [--connections 32]
                                     [--pairs uvicorn/json,granian/json,uvicorn/orjson]
                                     [--modes noop,single,batch]
    python bench/tracking/servers.py parse [--number 3000]
    python bench/tracking/servers.py check [--number 3000]

The first form serves the same `pavior.asgi:application` under each
server/parser pair given (uvicorn or granian; json, orjson or msgspec), all
running at once on one seeded
database (SQLite, or DATABASE_URL) with a workspace and its 10,000 users per
pair, and measures saturation with wrk (bench/tracking/run.py's wrk and
track.lua) in rounds, interleaved: round 1 runs each pair's modes, then round
2 again, and so on (A B A B). It prints each pair's medians and their ratio
to the same pair's no-op (the CORS preflight), the CPU seconds the pair's
server processes spent per request (from /proc, as cpu_per_request.py: it
follows the other load on a shared machine much less), then the events each pair's
workspace stored against the events wrk counted as answered 2xx.

- uvicorn runs as `pavior serve --no-worker --workers N` runs it: the options
  of pavior.cli.uvicorn_options() (lifespan off, forwarded_allow_ips from
  PAVIOR_TRUSTED_PROXIES), httptools, uvloop, warning log level, no access log.
- granian runs the ASGI interface without lifespan (`asginl`: uvicorn's
  lifespan is off, and Django's handler refuses a lifespan scope), HTTP/1 only,
  uvloop, the same number of workers, no background worker, the same
  environment, with granian's own proxy-headers wrapper trusting the same
  PAVIOR_TRUSTED_PROXIES (uvicorn's forwarded_allow_ips).
- A parser other than json replaces the intake's body parser (the parse_json
  that pavior.tracking.intake.load_json_object calls, for the snippet and
  Segment alike) in the server's processes with a candidate below.

The `parse` form is the function-level micro-bench: json.loads, orjson.loads
and msgspec's decoder on snippet bodies of 1 and 50 events, and the real
parse_request with each candidate parser in place. The `check` form holds the
candidates to parse_json's answers (value, or InvalidJson and its message) on
edge bodies and on generated nasty documents.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import msgspec  # noqa: E402
import orjson  # noqa: E402
from cpu_per_request import cpu_seconds, tree  # noqa: E402
from run import PAVIOR, bench_env, free_port, launch, seeded_workspace, setup_database, wrk  # noqa: E402

# pavior.core has no Django imports: safe before the settings are configured.
from pavior.core.json_input import (  # noqa: E402
    MAX_DEPTH,
    InvalidJson,
    _depth_over,
    _has_nul,
    _too_deep,
    parse_json,
)

HERE = Path(__file__).parent
PYTHON = sys.executable
GRANIAN = str(Path(sys.executable).parent / "granian")
PARSER_ENV = "PAVIOR_BENCH_PARSER"

# ---------------------------------------------------------------------------
# Candidate parsers. Each returns exactly what pavior.core.json_input.parse_json
# returns and raises exactly what it raises: whatever the fast decoder refuses,
# or may read differently, goes through parse_json itself.

# orjson reads an integer past 64 bits as a float (json: an exact int), so a
# body with a run of 19 digits or more (anywhere, strings too) takes json's
# path. One C pass (every digit to "0", the rest to " "), not a regex: re's
# \d{19} search took 115 µs on a 50-event body, orjson.loads 14 µs.
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG = b"0" * 19


def _checked(value: Any, data: bytes) -> Any:
    """parse_json's checks after decoding (the decoders refuse lone surrogates)."""
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _depth_over(value, MAX_DEPTH):
        raise _too_deep()
    if b"\\u0000" in data and _has_nul(value):
        raise InvalidJson("The body contains a NUL character (\\u0000), which cannot be stored")
    return value


def orjson_parse(raw: bytes | str) -> Any:
    if not isinstance(raw, bytes) or _LONG in raw.translate(_DIGITS):
        return parse_json(raw)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return parse_json(raw)  # json's own error message, or json's reading
    return _checked(value, raw)


_msgspec_decoder = msgspec.json.Decoder()


def msgspec_parse(raw: bytes | str) -> Any:
    if not isinstance(raw, bytes):
        return parse_json(raw)
    try:
        value = _msgspec_decoder.decode(raw)  # exact big integers, like json
    except (msgspec.DecodeError, RecursionError):
        return parse_json(raw)
    return _checked(value, raw)


PARSERS: dict[str, Callable[[bytes | str], Any] | None] = {
    "json": None,  # the intake as it is
    "orjson": orjson_parse,
    "msgspec": msgspec_parse,
}


def use_parser(name: str) -> None:
    """Put the named candidate in place of the intake's parse_json (this process)."""
    from pavior.tracking import intake

    intake.parse_json = PARSERS[name] or parse_json  # type: ignore[assignment]


# ---------------------------------------------------------------------------
# What the servers import (`servers:application` with their --factory flag).


def application() -> Any:
    """pavior.asgi:application with the parser of PAVIOR_BENCH_PARSER."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
    from pavior.asgi import application as app

    use_parser(os.environ.get(PARSER_ENV, "json"))
    return app


def granian_application() -> Any:
    """As uvicorn believes X-Forwarded-For only from PAVIOR_TRUSTED_PROXIES."""
    from django.conf import settings
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    app = application()
    return wrap_asgi_with_proxy_headers(app, trusted_hosts=settings.PAVIOR_TRUSTED_PROXIES)


def serve_uvicorn(port: int, workers: int) -> None:
    """uvicorn as `pavior serve --no-worker --workers N` runs it (pavior/cli.py)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
    import django

    django.setup()
    import uvicorn

    from pavior.cli import uvicorn_options

    uvicorn.run(
        "servers:application",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers if workers > 1 else None,
        log_level="warning",
        access_log=False,
        http="httptools",
        loop="uvloop",
        **uvicorn_options(),
    )


# granian's own tuning on top of the equivalent set-up (pairs "granian+rust/json", ...).
GRANIAN_VARIANTS = {
    "granian": [],
    "granian+rust": ["--task-impl", "rust"],  # its Rust asyncio tasks (Python < 3.12)
    "granian+st": ["--runtime-mode", "st"],  # a single-threaded Rust runtime per worker
}


def server_command(server: str, port: int, workers: int) -> list[str]:
    if server == "uvicorn":
        return [PYTHON, __file__, "serve-uvicorn", str(port), str(workers)]
    # asginl: ASGI without lifespan (uvicorn_options() turns it off; Django refuses it).
    return [
        GRANIAN,
        "--interface",
        "asginl",
        "--http",
        "1",
        "--no-ws",
        "--loop",
        "uvloop",
        "--workers",
        str(workers),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--factory",
        "servers:granian_application",
        *GRANIAN_VARIANTS[server],
    ]


# ---------------------------------------------------------------------------
# The end-to-end comparison.


def stored_events(env: dict[str, str], app_ids: list[str]) -> dict[str, int]:
    code = (
        "import json; from pavior.tracking.models import RawEvent; "
        f"print(json.dumps({{a: RawEvent.objects.filter(workspace__app_id=a).count() "
        f"for a in {app_ids!r}}}))"
    )
    out = subprocess.run(
        [PAVIOR, "manage", "shell", "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def compare(args: argparse.Namespace) -> None:
    env = bench_env()
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE), *filter(None, [os.environ.get("PYTHONPATH", "")])]
    )
    db = setup_database(env)
    pairs = [(s, p) for s, p in (pair.split("/") for pair in args.pairs.split(","))]
    for server, parser in pairs:
        if server not in ("uvicorn", *GRANIAN_VARIANTS) or parser not in PARSERS:
            raise SystemExit(f"unknown pair {server}/{parser}")
    modes = args.modes.split(",")
    app_ids = {pair: seeded_workspace(env, f"{pair[0]}-{pair[1]}") for pair in pairs}
    servers: dict[tuple[str, str], tuple[subprocess.Popen, str]] = {}
    results: dict[tuple[str, str, str], list[dict]] = {}
    try:
        for pair in pairs:
            port = free_port()
            cmd = server_command(pair[0], port, args.workers)
            proc = launch(cmd, {**env, PARSER_ENV: pair[1]}, port)
            servers[pair] = (proc, f"http://127.0.0.1:{port}")
        c, t = args.connections, args.threads
        for pair, (_, base) in servers.items():  # warm-up: imports, connections, caches
            results[(*pair, "warm-up")] = [wrk(base, "single", app_ids[pair], 3, c, t)]
        print(
            f"database={db} workers={args.workers} connections={c} wrk_threads={t} "
            f"seconds={args.seconds} rounds={args.rounds} cores={os.cpu_count()} "
            f"load={os.getloadavg()[0]:.1f}",
            flush=True,
        )
        pids = {pair: tree(proc.pid) for pair, (proc, _) in servers.items()}
        for n in range(args.rounds):
            for pair, (_, base) in servers.items():
                for mode in modes:
                    # Throughput follows the other load on a shared machine; the
                    # CPU the server's processes spend per request much less.
                    before = cpu_seconds(pids[pair])
                    r = wrk(base, mode, app_ids[pair], args.seconds, c, t)
                    r["cpu_us"] = 1e6 * (cpu_seconds(pids[pair]) - before) / max(1, r["requests"])
                    results.setdefault((*pair, mode), []).append(r)
                    print(
                        f"  round {n + 1} {pair[0]:12} {pair[1]:8} {mode:6} {r['rps']:8.0f} req/s "
                        f"{r['cpu_us']:6.0f} µs CPU/req non-2xx {r['non2xx']} "
                        f"socket errors {r['socket_errors']} load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
    finally:
        for proc, _ in servers.values():
            proc.terminate()
        for proc, _ in servers.values():
            proc.wait(timeout=30)
    report(results, pairs, modes)
    time.sleep(1)
    stored = stored_events(env, list(app_ids.values()))
    # wrk stops counting with requests in flight, which the server may still
    # store: at most one request per connection per run more than counted.
    print(
        "\nstored events (raw events in the pair's workspace) vs events answered 2xx by wrk "
        "(stored may exceed it by the requests in flight when each run stopped):"
    )
    for pair in pairs:
        answered = in_flight = 0
        for (server, parser, mode), runs in results.items():
            if (server, parser) == pair and mode != "noop":
                per = 50 if mode == "batch" else 1
                answered += sum((r["requests"] - r["non2xx"]) * per for r in runs)
                in_flight += len(runs) * args.connections * per
        got = stored[app_ids[pair]]
        verdict = "ok" if answered <= got <= answered + in_flight else "MISMATCH"
        print(
            f"  {pair[0]:12} {pair[1]:8} stored {got:8}  answered {answered:8}  "
            f"in flight at most {in_flight:6}  {verdict}"
        )


def report(
    results: dict[tuple[str, str, str], list[dict]], pairs: list[tuple[str, str]], modes: list[str]
) -> None:
    print(
        "\nserver       parser   mode    median req/s  events/s  % of noop  "
        "CPU µs/req  non-2xx  req/s by round"
    )
    for pair in pairs:
        noop = results.get((*pair, "noop"))
        ref = statistics.median(r["rps"] for r in noop) if noop else None
        for mode in modes:
            runs = results[(*pair, mode)]
            med = statistics.median(r["rps"] for r in runs)
            cpu = statistics.median(r["cpu_us"] for r in runs)
            events = med * (50 if mode == "batch" else 1 if mode == "single" else 0)
            ratio = f"{100 * med / ref:8.1f} %" if ref else "       -"
            bad = sum(r["non2xx"] + r["socket_errors"] for r in runs)
            rounds = " ".join(f"{r['rps']:.0f}" for r in runs)
            print(
                f"{pair[0]:12} {pair[1]:8} {mode:6} {med:12.0f} {events:9.0f} {ratio} "
                f"{cpu:11.0f} {bad:8}  {rounds}"
            )


# ---------------------------------------------------------------------------
# The function-level micro-bench.


def snippet_body(events: int) -> bytes:
    """A batch as pavior.js sends it (its event shape and envelope)."""
    now = 1_764_633_600_000
    items = [
        {
            "message_id": f"5f0c8a4e-9b1d-4c2a-8e7f-{i:012d}",
            "type": "page" if i == 0 else "heartbeat",
            "at": now + i * 1000,
            "url": f"https://shop.example/products/{i}?utm_source=newsletter",
        }
        for i in range(events)
    ]
    body = {
        "app_id": "app_4f2a9c1b7d3e",
        "user": {"id": "user4711", "email": "ada@example.com"},
        "events": items,
        "sent_at": now + events * 1000,
        "messages_version": "",
    }
    return json.dumps(body).encode()


def parse_bench(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
    import django

    django.setup()
    from pavior.tracking import intake

    decoder = msgspec.json.Decoder()
    now = datetime.now(UTC)

    def per_call(fn: Callable[[], Any]) -> float:
        # CPU time, not wall time: the machine may be shared (as for the servers).
        runs = timeit.repeat(fn, number=args.number, repeat=7, timer=time.process_time)
        return 1e6 * statistics.median(runs) / args.number

    print(
        f"CPU µs per call, median of 7 repeats of {args.number} calls "
        f"(python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f})"
    )
    print(f"{'body':20} {'step':34} {'json':>7} {'orjson':>7} {'msgspec':>7}")
    for n in (1, 50):
        body = snippet_body(n)
        assert orjson.loads(body) == json.loads(body) == decoder.decode(body)
        rows: dict[str, list[float]] = {
            "decode alone (loads)": [
                per_call(lambda b=body: json.loads(b)),
                per_call(lambda b=body: orjson.loads(b)),
                per_call(lambda b=body: decoder.decode(b)),
            ],
            "the intake's parse (with checks)": [
                per_call(lambda b=body, f=parse: f(b))
                for parse in (parse_json, orjson_parse, msgspec_parse)
            ],
            "parse_request (the whole read)": [],
        }
        for name in ("json", "orjson", "msgspec"):
            use_parser(name)
            assert len(intake.parse_request(body, "", now)[2]) == n
            rows["parse_request (the whole read)"].append(
                per_call(lambda b=body: intake.parse_request(b, "", now))
            )
        use_parser("json")
        assert intake.parse_json is parse_json
        label = f"{n} event{'s' if n > 1 else ''} ({len(body)} B)"
        for step, (a, b, c) in rows.items():
            print(f"{label:20} {step:34} {a:7.1f} {b:7.1f} {c:7.1f}")
        # parse_json's checks after decoding, the same for every decoder.
        value = json.loads(body)
        checks = {
            "  its depth walk (_depth_over)": per_call(lambda v=value: _depth_over(v, MAX_DEPTH)),
            "  its bracket count": per_call(lambda b=body: b.count(b"[") + b.count(b"{")),
            "  its surrogate test (lower)": per_call(lambda b=body: b"\\ud" in b.lower()),
        }
        for step, cost in checks.items():
            print(f"{label:20} {step:34} {cost:7.1f}")


# Bodies where json, orjson and msgspec read or refuse differently (and the
# limits parse_json adds): the candidates must answer each as parse_json does.
EDGE_BODIES = [
    b'"\\ud83d"',
    b'"\\udc00x"',
    b'"\\ud83d\\ude00"',
    b'"\xed\xa0\xbd"',
    b"\xff",
    b"\xff\xfe\x00",
    b"NaN",
    b"[Infinity]",
    b"1e400",
    b"1e-400",
    b"1.5e308",
    b"-0",
    b"-0.0",
    b"1E2",
    b"0.1e1",
    b"123456789012345678901234567890",
    b"-9999999999999999999",
    b"18446744073709551616",
    b"[9223372036854775807, -9223372036854775808]",
    b"[9223372036854775808, -9223372036854775809]",
    b"99999999999999999.0",
    b"[1.7976931348623157e308, 2.2250738585072014e-308, 4.9e-324]",
    b'{"a":1,"a":2}',
    b"\xef\xbb\xbf{}",
    '{"x": 1}'.encode("utf-16"),
    b"  {} ",
    b"{}x",
    b"{",
    b"",
    b"[" * 32 + b"]" * 32,
    b"[" * 33 + b"]" * 33,
    b"[" * 3000 + b"]" * 3000,
    b'{"a": "x\\u0000"}',
    b'{"a\\u0000": 1}',
    b'{"a": "\\\\u0000"}',
]


def outcome(parse: Callable[[bytes], Any], body: bytes) -> tuple[str, ...]:
    try:
        return ("value", json.dumps(parse(body)))
    except InvalidJson as e:
        return ("InvalidJson", e.message)
    except Exception as e:  # any other exception is a difference too
        return (type(e).__name__, str(e))


def check(args: argparse.Namespace) -> None:
    """The candidates against parse_json: the edge bodies, then hypothesis's
    nasty documents (tests/nasty_inputs.py), as UTF-8 and with raw surrogates."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    sys.path.insert(0, str(HERE.parent.parent / "tests"))
    import nasty_inputs as nasty

    def same(body: bytes) -> None:
        want = outcome(parse_json, body)
        for parse in (orjson_parse, msgspec_parse):
            got = outcome(parse, body)
            assert got == want, (body[:200], parse.__name__, want, got)

    for body in EDGE_BODIES:
        same(body)
    documents = st.recursive(
        nasty.value(),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(nasty.text(), c, max_size=3),
        max_leaves=8,
    )

    @settings(max_examples=args.number, deadline=None, suppress_health_check=list(HealthCheck))
    @given(documents)
    def documents_read_alike(document: Any) -> None:
        text = nasty.to_json(document)
        same(text.encode("utf-8", "surrogatepass"))

    documents_read_alike()
    print(f"same answers: {len(EDGE_BODIES)} edge bodies, {args.number} generated documents")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve-uvicorn":
        serve_uvicorn(int(sys.argv[2]), int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("what", nargs="?", default="compare", choices=["compare", "parse", "check"])
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (each takes a core)")
    ap.add_argument("--pairs", default="uvicorn/json,granian/json", help="server/parser,...")
    ap.add_argument("--modes", default="noop,single,batch")
    ap.add_argument("--number", type=int, default=3000, help="calls per repeat (parse)")
    args = ap.parse_args()
    if args.what == "parse":
        parse_bench(args)
    elif args.what == "check":
        check(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
