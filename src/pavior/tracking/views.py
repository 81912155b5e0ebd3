"""GET /pavior.js: the snippet's script.

The intake endpoints themselves (`/api/v1/track` and the Segment-compatible
ones) are not Django views: pavior.tracking.lean answers them.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse

SCRIPT = Path(__file__).parent / "static" / "pavior.js"


@cache
def _script() -> tuple[bytes, str]:
    body = SCRIPT.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def script(request: HttpRequest) -> HttpResponse:
    """The snippet's script: small, cacheable, loadable from any site."""
    body, etag = _script()
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    # An hour: a new release reaches sites quickly; ETag makes revalidation cheap.
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
