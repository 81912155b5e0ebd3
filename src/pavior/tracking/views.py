"""Public website endpoints: GET /pavior.js and POST /api/v1/track.

The intake is cross-origin and cookie-less: CSRF-exempt, CORS for any origin
without credentials, and it answers 200 only once the batch is committed
(503 with Retry-After when storage fails, so the snippet retries).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from pavior.core.attributes import Trust
from pavior.core.errors import PaviorError
from pavior.tracking import clock
from pavior.tracking.actions import ingest
from pavior.tracking.geoip import Place, get_geoip
from pavior.tracking.intake import BadRequest, parse_request
from pavior.tracking.lookup import require_workspace, workspace_for_app_id

log = logging.getLogger("pavior.tracking")

SCRIPT = Path(__file__).parent / "static" / "pavior.js"
RETRY_AFTER_SECONDS = 5


# The intake's CORS answer, for any origin and without credentials (shared with
# the lean ASGI path in pavior.tracking.lean).
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Content-Encoding, Authorization",
    "Access-Control-Max-Age": "86400",
    # The snippet waits as long as a 429 or 503 says.
    "Access-Control-Expose-Headers": "Retry-After",
}


def cors(response: HttpResponse) -> HttpResponse:
    for name, value in CORS_HEADERS.items():
        response[name] = value
    return response


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def error(status: int, code: str, message: str, field: str | None = None) -> HttpResponse:
    response = cors(JsonResponse(error_body(code, message, field), status=status))
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


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


def client_ip(remote: str, forwarded_for: str) -> str:
    """The visitor's address: X-Forwarded-For is believed only from a trusted proxy."""
    trusted = settings.PAVIOR_TRUSTED_PROXIES
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    # Walk from the nearest hop; the first one not a trusted proxy is the client.
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote
        if hop not in trusted:
            return hop
    return remote


def place_for(remote: str, forwarded_for: str) -> Place | None:
    ip = client_ip(remote, forwarded_for)
    return get_geoip().lookup(ip) if ip else None


def client_address(request: HttpRequest) -> str:
    """The client's address of a Django request, by the trusted-proxy rule."""
    return client_ip(
        request.META.get("REMOTE_ADDR", ""), request.headers.get("X-Forwarded-For", "")
    )


def place_of(request: HttpRequest) -> Place | None:
    return place_for(
        request.META.get("REMOTE_ADDR", ""), request.headers.get("X-Forwarded-For", "")
    )


def result_body(result: Any) -> dict[str, Any]:
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "verified": result.verified,
        "errors": result.errors,
        "warnings": result.warnings,
    }


@csrf_exempt
def track(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return cors(HttpResponse(status=204))
    if request.method != "POST":
        response = error(405, "method_not_allowed", "POST a batch to this endpoint")
        response["Allow"] = "POST, OPTIONS"
        return response
    received_at = clock.now()
    try:
        app_id, identity, events = parse_request(
            request.body, request.headers.get("Content-Encoding", ""), received_at
        )
        workspace = require_workspace(app_id)
    except PaviorError as e:
        return error(e.status, e.code, e.message, e.field)
    place = place_of(request)
    return run_ingest(
        lambda: ingest(
            workspace, identity, events, trust=Trust.BROWSER, received_at=received_at, place=place
        ),
        result_body,
    )


def run_ingest(call: Any, render: Any) -> HttpResponse:
    """Run one batch; a storage failure is a 503 the client retries, never a 200."""
    for attempt in (1, 2):
        try:
            result = call()
            break
        except PaviorError as e:
            return error(e.status, e.code, e.message, e.field)
        except IntegrityError:
            # Two first batches of a new user raced to create them: the
            # second attempt finds the row the other one committed.
            if attempt == 2:
                log.exception("tracking batch kept conflicting")
                return error(503, "unavailable", "Could not store the batch; retry later")
        except DatabaseError:
            log.exception("tracking batch could not be stored")
            return error(503, "unavailable", "Could not store the batch; retry later")
    return cors(JsonResponse(render(result)))


@csrf_exempt
def noop(request: HttpRequest) -> HttpResponse:
    """Same stack, no work: the reference the tracking benchmark is measured against."""
    if request.method == "OPTIONS":
        return cors(HttpResponse(status=204))
    return cors(JsonResponse({"accepted": 0}))


__all__ = ["BadRequest", "noop", "script", "track", "workspace_for_app_id"]
