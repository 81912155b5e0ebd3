"""ASGI entry point (uvicorn pavior.asgi:application).

The intake (`/api/v1/track` and the Segment-compatible `/v1/*` endpoints) is
answered by a lean pure-ASGI application that skips Django's middleware stack
(pavior.tracking.lean), and so are the bubble's endpoints
(`/api/v1/messenger/*`, pavior.api.messenger); every other request goes to Django.
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
django_application = get_asgi_application()

from pavior import request_ids  # noqa: E402
from pavior.api import messenger  # noqa: E402
from pavior.tracking import lean  # noqa: E402  (needs the settings configured above)

# The snippet's batches are answered with the user's in-site messages.
messenger.install()

# Every response carries an X-Request-ID that the log lines of its request share.
_lean = request_ids.wrap(lean.app, log_5xx=True)
_messenger = request_ids.wrap(messenger.app, log_5xx=True)
_django = request_ids.wrap(django_application)


async def application(scope: Any, receive: Any, send: Any) -> None:
    if lean.handles(scope):
        await _lean(scope, receive, send)
    elif messenger.handles(scope):
        await _messenger(scope, receive, send)
    else:
        await _django(scope, receive, send)
