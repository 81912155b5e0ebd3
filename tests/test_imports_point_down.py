"""Imports point down: core <- workspaces <- people <- segments <-
tracking/imports/messaging <- api/web (docs/DEVELOPING.md).

Every `import` and `from ... import` of every module is read with `ast`,
including the ones inside functions (a lazy upward import is still one), so a
new upward call fails here rather than in a review.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "pavior"

# Lower number = lower layer. A package may import its own modules and any
# package of a lower layer; never one of its own layer (a peer) or above.
LAYERS = {
    "core": 0,
    "workspaces": 1,
    "people": 2,
    "segments": 3,
    "tracking": 4,
    "imports": 4,
    "messaging": 4,
    "api": 5,
    "web": 5,
    # The top-level modules that wire it all together sit above everything.
    "cli": 6,
    "urls": 6,
    "asgi": 6,
}


def imported_pavior_packages(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top package under pavior) for every import of pavior.<package>."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "pavior":  # from pavior import people
                names = [f"pavior.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "pavior" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def upward_imports(root: Path) -> list[str]:
    problems = []
    for package, layer in LAYERS.items():
        here = root / package
        files = sorted(here.rglob("*.py")) if here.is_dir() else [root / f"{package}.py"]
        for path in files:
            if not path.exists():
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, target in imported_pavior_packages(tree):
                if target == package or target not in LAYERS:
                    continue
                if LAYERS[target] >= layer:
                    rel = path.relative_to(root.parent)
                    problems.append(f"{rel}:{line} imports pavior.{target}")
    return problems


def test_no_package_imports_a_package_above_or_beside_it() -> None:
    assert upward_imports(PACKAGE) == []


def test_the_guard_sees_top_level_lazy_and_from_pavior_imports(tmp_path: Path) -> None:
    # The guard itself: each spelling of an upward import is caught.
    people = tmp_path / "pavior" / "people"
    people.mkdir(parents=True)
    (people / "a.py").write_text("import pavior.segments.actions\n")
    (people / "b.py").write_text("def f():\n    from pavior.tracking.actions import x\n")
    (people / "c.py").write_text("from pavior import api\n")
    (people / "d.py").write_text("from pavior.core.errors import NotFound\nfrom . import models\n")
    (tmp_path / "pavior" / "tracking").mkdir()
    (tmp_path / "pavior" / "tracking" / "cli.py").write_text("from pavior.cli import fail\n")
    (tmp_path / "pavior" / "cli.py").write_text("from pavior.tracking.cli import register\n")
    assert upward_imports(tmp_path / "pavior") == [
        "pavior/people/a.py:1 imports pavior.segments",
        "pavior/people/b.py:2 imports pavior.tracking",
        "pavior/people/c.py:1 imports pavior.api",
        "pavior/tracking/cli.py:1 imports pavior.cli",
    ]
