"""`pavior serve` on a fresh data dir: migrates, serves the API, and the README flow works."""

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    if os.environ.get("DATABASE_URL"):
        pytest.skip("runs on its own SQLite data dir")
    env = {**os.environ, "PAVIOR_DATA_DIR": str(tmp_path)}
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pavior.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/api/v1/openapi.json", timeout=1)
            break
        except httpx.HTTPError:
            if proc.poll() is not None:
                pytest.fail(proc.stdout.read())
            time.sleep(0.2)
    yield base, env
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    print(out)


def test_serve_then_create_workspace_and_use_the_api(server):
    base, env = server
    created = subprocess.run(
        [sys.executable, "-m", "pavior.cli", "workspace", "create", "Acme", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(created.stdout)["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    r = httpx.post(
        f"{base}/api/v1/attributes", json={"name": "plan", "type": "string"}, headers=headers
    )
    assert r.status_code == 201, r.text
    r = httpx.put(
        f"{base}/api/v1/users/u1", json={"email": "a@example.com", "plan": "pro"}, headers=headers
    )
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{base}/api/v1/users/count",
        json={"filter": {"attribute": "plan", "op": "eq", "value": "pro"}},
        headers=headers,
    )
    assert r.json() == {"count": 1}
