"""One error shape for every API failure: {"error": {"code", "message", "field"}}."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from pavior.core.errors import PaviorError
from pavior.rate_limits import RateLimited


def error_response(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "field": field}}, status=status
    )


def _pavior_error(request: HttpRequest, exc: PaviorError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, exc.field)


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first: dict[str, Any] = exc.errors[0] if exc.errors else {}
    # pydantic's loc is ("body", "payload", "name"): the last part is the field.
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "payload", "query")]
    field = ".".join(loc) or None
    message = first.get("msg", "Invalid request")
    if field:
        message = f"{field}: {message}"
    return error_response(422, "invalid_request", message, field)


def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip()
    if not header:
        message = "Missing API key: send 'Authorization: Bearer <api_key>'"
    elif token.startswith("app_"):
        message = "That is the workspace's public app_id; the REST API needs a secret API key"
    else:
        message = "Invalid API key"
    return error_response(401, "unauthorized", message)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {400: "invalid_json", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    message = str(exc)
    if exc.status_code == 400 and message.startswith("Cannot parse"):
        # Ninja wraps what the parser (pavior.api.main.JsonParser) raised: say
        # what was wrong with the body rather than only that it was.
        cause = exc.__cause__
        message = cause.message if isinstance(cause, PaviorError) else "The body is not valid JSON"
    return error_response(exc.status_code, codes.get(exc.status_code, "bad_request"), message)


def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = error_response(429, "rate_limited", exc.message)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(404, "not_found", "Not found")


def unknown_endpoint(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any /api/ address no route matched: the API's JSON error, not an HTML page."""
    return error_response(404, "not_found", f"No API endpoint at {request.path[:200]}")


def install(api: Any) -> None:
    from django.http import Http404

    api.add_exception_handler(PaviorError, _pavior_error)
    api.add_exception_handler(ValidationError, _validation_error)
    api.add_exception_handler(AuthenticationError, _auth_error)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(RateLimited, _rate_limited)
