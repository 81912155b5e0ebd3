"""/users: write, read, erase, search, count, activity."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from pavior.api.schemas import ActivityIn, CountIn, CountOut, ErrorOut, SearchIn, SearchOut
from pavior.core import inputs
from pavior.core.attributes import Trust
from pavior.core.dates import parse_date
from pavior.core.errors import InvalidValue, NotFound
from pavior.core.filters import parse_sort
from pavior.core.json_input import parse_json
from pavior.people import actions
from pavior.people.queries import all_attributes, find_person, serialize_person
from pavior.segments.queries import count_people, search_people
from pavior.segments.saved import parse_workspace_filter
from pavior.tracking.activity import record_activity

router = Router(tags=["users"])

MAX_LIMIT = 500


def _object_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON body as an object; anything else is a clear 4xx."""
    data = parse_json(request.body or b"null")
    if not isinstance(data, dict):
        raise InvalidValue("The request body must be a JSON object of attribute: value")
    return data


def _user_out(request: HttpRequest, person: Any) -> dict[str, Any]:
    return serialize_person(person, all_attributes(request.workspace))  # type: ignore[attr-defined]


@router.post("/users/search", response={200: SearchOut, 422: ErrorOut})
def search_users(request: HttpRequest, payload: SearchIn) -> Any:
    workspace = request.workspace  # type: ignore[attr-defined]
    attrs = all_attributes(workspace)
    lookup = {a.name: a for a in attrs}.get
    if not 1 <= payload.limit <= MAX_LIMIT:
        raise InvalidValue(f"limit is 1 to {MAX_LIMIT}", field="limit")
    node = parse_workspace_filter(workspace, payload.filter, lookup=lookup)
    sort = parse_sort(payload.sort, lookup)
    page = search_people(
        workspace,
        node,
        sort,
        limit=payload.limit,
        cursor=payload.cursor,
        search=payload.search,
        with_total=payload.include_total,
    )
    return {
        "total": page.total if payload.include_total else None,
        "users": [serialize_person(p, attrs) for p in page.people],
        "next_cursor": page.next_cursor,
    }


@router.post("/users/count", response={200: CountOut, 422: ErrorOut})
def count_users(request: HttpRequest, payload: CountIn) -> Any:
    workspace = request.workspace  # type: ignore[attr-defined]
    lookup = {a.name: a for a in all_attributes(workspace)}.get
    node = parse_workspace_filter(workspace, payload.filter, lookup=lookup)
    return {"count": count_people(workspace, node, search=payload.search)}


@router.put(
    "/users/{user_id}",
    response={200: dict[str, Any], 201: dict[str, Any], 422: ErrorOut},
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}
    },
)
def put_user(request: HttpRequest, user_id: str) -> Any:
    values = _object_body(request)
    result = actions.upsert_user(
        request.workspace,  # type: ignore[attr-defined]
        values,
        trust=Trust.SECRET,
        path_id=inputs.user_id(user_id),
    )
    return Status(201 if result.created else 200, _user_out(request, result.person))


@router.post(
    "/users",
    response={200: dict[str, Any], 201: dict[str, Any], 422: ErrorOut},
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}
    },
)
def post_user(request: HttpRequest) -> Any:
    values = _object_body(request)
    result = actions.upsert_user(request.workspace, values, trust=Trust.SECRET)  # type: ignore[attr-defined]
    return Status(201 if result.created else 200, _user_out(request, result.person))


@router.get("/users/{user_id}", response={200: dict[str, Any], 404: ErrorOut})
def get_user(request: HttpRequest, user_id: str) -> Any:
    person = find_person(request.workspace, inputs.user_id(user_id))  # type: ignore[attr-defined]
    if person is None:
        raise NotFound(f'No user with id "{user_id}"', field="id")
    return _user_out(request, person)


@router.delete("/users/{user_id}", response={204: None, 404: ErrorOut})
def delete_user(request: HttpRequest, user_id: str) -> Any:
    actions.erase_user(request.workspace, inputs.user_id(user_id))  # type: ignore[attr-defined]
    return Status(204, None)


@router.post(
    "/users/{user_id}/activity", response={200: dict[str, Any], 404: ErrorOut, 422: ErrorOut}
)
def post_activity(request: HttpRequest, user_id: str, payload: ActivityIn) -> Any:
    user_id = inputs.user_id(user_id)
    at = None
    if payload.at is not None:
        try:
            at = parse_date(payload.at)
        except ValueError as e:
            raise InvalidValue(f"at: {e}", field="at") from e
    person = record_activity(request.workspace, user_id, payload.type, at)  # type: ignore[attr-defined]
    return _user_out(request, person)
