"""Several server processes (`pavior serve --workers N`) count against one limit:
processes racing on the same key let through exactly the limit, no more, with
the file cache (no REDIS_URL) as with Redis (scripts/test runs this both ways)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from typing import Any

PROCESSES = 4
CALLS = 3000
LIMIT = 6000

WORKER = textwrap.dedent(
    f"""
    import os, sys, time, django
    os.environ["DJANGO_SETTINGS_MODULE"] = "pavior.settings"
    django.setup()
    from pavior import rate_limits
    time.sleep(max(0.0, float(sys.argv[1]) - time.time()))  # all start together
    allowed = sum(rate_limits.check_api_key("sk_shared") == 0 for _ in range({CALLS}))
    print(allowed)
    """
)


def test_racing_processes_let_through_exactly_the_limit(rate_limits: Any) -> None:
    from django.conf import settings

    env = {
        **os.environ,
        "PAVIOR_DATA_DIR": str(settings.DATA_DIR),
        "PAVIOR_RATE_LIMITS": "true",
        "PAVIOR_RATE_LIMIT_WINDOW": "3600",
        "PAVIOR_RATE_LIMIT_API_PER_KEY": str(LIMIT),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    start = str(time.time() + 8)  # after every process has set Django up
    workers = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", WORKER, start], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(PROCESSES)
    ]
    allowed = [int(w.communicate(timeout=120)[0]) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    # 12,000 calls raced for 6,000 places (a window boundary in between would give more).
    assert sum(allowed) == LIMIT, allowed
