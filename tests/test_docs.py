"""Docs that CI keeps honest: every setting and every CLI command is documented."""

import re
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_is_documented():
    settings_src = (ROOT / "src/pavior/settings.py").read_text()
    names = set(re.findall(r'env(?:bool|int|secret)?\(\s*"([A-Z_]+)"', settings_src))
    assert "DATABASE_URL" in names and "PAVIOR_DATA_DIR" in names
    doc = (ROOT / "docs/configuration.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert not missing, f"document these in docs/configuration.md: {missing}"


def _commands(group: click.Group, prefix: str = "pavior") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out += _commands(cmd, path)
        else:
            out.append(path)
    return out


def test_every_cli_command_is_documented():
    from pavior.cli import main

    doc = (ROOT / "docs/cli.md").read_text()
    commands = _commands(main)
    assert "pavior workspace create" in commands
    missing = [c for c in commands if f"`{c}" not in doc]
    assert not missing, f"document these in docs/cli.md: {missing}"
