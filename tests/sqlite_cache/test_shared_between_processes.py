"""Several processes on one cache file (the web processes of `pavior serve`
and its worker) see one cache: increments racing on one key add up exactly,
an `add` raced by all of them succeeds once, and what one sets the others read."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.sqlite_cache.conftest import open_cache

PROCESSES = 4

# Each process waits for a common start time (after every one has imported
# Python and Django), then runs its part of the race on a new cache object.
ROUNDS = 100
WORKER = textwrap.dedent(
    """
    import sys, time
    ROUNDS = @ROUNDS@
    from pavior.sqlite_cache import SQLiteCache
    path, start, what = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    cache = SQLiteCache(path, {"KEY_PREFIX": "pavior"})
    time.sleep(max(0.0, start - time.time()))
    if what == "incr":
        for _ in range(int(sys.argv[4])):
            cache.incr("n")
        print("done")
    elif what == "add":  # on new files, one a round, each round starting at once
        import os, random
        won = []
        for round in range(ROUNDS):
            cache = SQLiteCache(os.path.join(path, f"{round}.sqlite3"), {"KEY_PREFIX": "pavior"})
            at = start + round * 0.02 + random.random() * 0.005
            time.sleep(max(0.0, at - time.time()))
            won.append(cache.add("once", sys.argv[4], timeout=None))
        print(" ".join(str(w) for w in won))
    elif what == "set":
        cache.set_many({"from_child": {"pid": sys.argv[4]}}, timeout=60)
        print("done")
    elif what == "get":
        print(cache.get(sys.argv[4], "missing"))
    """
).replace("@ROUNDS@", str(ROUNDS))


def run_together(path: Path, what: str, args: list[str]) -> list[str]:
    """WORKER in one process per item of `args`, all starting at once; their outputs."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start = str(time.time() + 1.5)
    procs = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", WORKER, str(path), start, what, arg],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for arg in args
    ]
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outputs.append(out.strip())
    return outputs


def test_increments_racing_on_one_key_add_up_exactly(cache_file: Path) -> None:
    calls = 400
    open_cache(cache_file, KEY_PREFIX="pavior").add("n", 0, timeout=None)
    run_together(cache_file, "incr", [str(calls)] * PROCESSES)
    assert open_cache(cache_file, KEY_PREFIX="pavior").get("n") == PROCESSES * calls


def test_add_raced_by_every_process_succeeds_once(tmp_path: Path) -> None:
    """On brand-new files, each process opening each at about the same time: the
    first connections to a file turn on WAL and create the table, and SQLite
    may answer them "database is locked" at once whatever its busy timeout."""
    names = [f"p{i}" for i in range(PROCESSES)]
    outputs = [line.split() for line in run_together(tmp_path, "add", names)]
    for round in range(ROUNDS):
        won = [out[round] for out in outputs]
        assert sorted(won) == ["False"] * (PROCESSES - 1) + ["True"], (round, won)
        cache = open_cache(tmp_path / f"{round}.sqlite3", KEY_PREFIX="pavior")
        assert cache.get("once") == names[won.index("True")]


def test_what_one_process_sets_another_reads(cache_file: Path) -> None:
    mine = open_cache(cache_file, KEY_PREFIX="pavior")
    mine.set("from_parent", ("tuple", frozenset({1})), timeout=60)
    assert run_together(cache_file, "get", ["from_parent"]) == ["('tuple', frozenset({1}))"]
    run_together(cache_file, "set", ["child"])
    assert mine.get("from_child") == {"pid": "child"}
