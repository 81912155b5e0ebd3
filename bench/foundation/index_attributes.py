"""Create the expression indexes of the bench workspace's hot custom attributes.

    DATABASE_URL=... .venv/bin/python bench/foundation/index_attributes.py plan seats company

Goes through `pavior.segments.indexes.ensure_expression_index`, the same call
the app makes; the attribute's type comes from its definition.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")


def main(names: list[str]) -> None:
    import django

    django.setup()
    from pavior.people.models import AttributeDefinition
    from pavior.segments.indexes import ensure_expression_index
    from pavior.workspaces.models import Workspace

    workspace = Workspace.objects.get(name="bench-main")
    for name in names:
        definition = AttributeDefinition.objects.get(workspace=workspace, name=name)
        t0 = time.perf_counter()
        result = ensure_expression_index(workspace.pk, name, definition.type)
        state = "created" if result.created else "already there"
        print(f"{result.name}: {state} in {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main(sys.argv[1:])
