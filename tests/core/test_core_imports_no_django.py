"""The domain rules import no web framework or ORM (DESIGN.md, STYLE.md #6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
# Every module of the package, found on disk, so a new one is checked too.
MODULES = sorted(
    "pavior.core" if p.stem == "__init__" else f"pavior.core.{p.stem}"
    for p in (SRC / "pavior" / "core").glob("*.py")
)


def test_core_modules_import_without_django_or_third_party_packages() -> None:
    code = (
        "import sys\n"
        # Whatever site startup loaded (.pth hooks) is not ours to judge.
        "before = set(sys.modules)\n"
        f"import {', '.join(MODULES)}\n"
        "new = set(sys.modules) - before\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'ninja', 'pydantic', 'psycopg'})\n"
        "assert not bad, bad\n"
        # Anything the core pulls in from outside the standard library would
        # come from site-packages.
        "outside = sorted(n for n in new "
        "if 'site-packages' in (getattr(sys.modules[n], '__file__', None) or ''))\n"
        "assert not outside, outside\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(SRC)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_list_covers_the_known_modules() -> None:
    assert {"pavior.core.filters", "pavior.core.attributes", "pavior.core.visits"} <= set(MODULES)
