"""ASGI entry point (uvicorn pavior.asgi:application).

The tracking intake (`/api/v1/track` and its no-op twin) is answered by a lean
pure-ASGI handler that skips Django's middleware stack (see
pavior.tracking.lean); every other request goes to Django.
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
django_application = get_asgi_application()

from pavior.tracking import lean  # noqa: E402  (needs the settings configured above)


async def application(scope: Any, receive: Any, send: Any) -> None:
    if lean.handles(scope):
        await lean.app(scope, receive, send)
    else:
        await django_application(scope, receive, send)
