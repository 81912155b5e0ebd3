"""GET /pavior.js: the snippet's script; GET /pavior-messenger.css: the bubble's stylesheet.

The intake endpoints themselves (`/api/v1/track` and the Segment-compatible
ones) are not Django views: pavior.tracking.lean answers them.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse

STATIC = Path(__file__).parent / "static"
SCRIPT = STATIC / "pavior.js"
STYLESHEET = STATIC / "pavior-messenger.css"


@cache
def _file(path: Path) -> tuple[bytes, str]:
    body = path.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def script(request: HttpRequest) -> HttpResponse:
    """The snippet's script: small, cacheable, loadable from any site."""
    return _serve(request, SCRIPT, "text/javascript; charset=utf-8")


def stylesheet(request: HttpRequest) -> HttpResponse:
    """The bubble's stylesheet, linked from its shadow root (no inline style:
    a host page's strict CSP allows it with the Pavior origin)."""
    return _serve(request, STYLESHEET, "text/css; charset=utf-8")


def _serve(request: HttpRequest, path: Path, content_type: str) -> HttpResponse:
    body, etag = _file(path)
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    # An hour: a new release reaches sites quickly; ETag makes revalidation cheap.
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
