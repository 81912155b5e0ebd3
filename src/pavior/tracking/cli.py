"""`pavior` subcommands of this package."""

import click


def register(group: click.Group) -> None:
    """Add this package's commands to the `pavior` group."""
