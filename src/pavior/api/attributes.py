"""/attributes: list, create, archive/lock, delete."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from pavior.api.schemas import AttributeCreate, AttributeOut, AttributePatch, ErrorOut
from pavior.core.attributes import AttributeDef
from pavior.people import actions
from pavior.people.queries import all_attributes, definition_to_attr

router = Router(tags=["attributes"])


def attribute_out(attr: AttributeDef) -> dict[str, Any]:
    return {
        "name": attr.name,
        "rendered_name": attr.rendered_name,
        "type": attr.type.value,
        "builtin": attr.builtin,
        "live": attr.live,
        "archived": attr.archived,
        "browser_writable": attr.browser_writable,
    }


@router.get("/attributes", response=list[AttributeOut])
def list_attributes(request: HttpRequest) -> list[dict[str, Any]]:
    return [attribute_out(a) for a in all_attributes(request.workspace)]  # type: ignore[attr-defined]


@router.post("/attributes", response={201: AttributeOut, 409: ErrorOut, 422: ErrorOut})
def create_attribute(request: HttpRequest, payload: AttributeCreate) -> Any:
    d = actions.create_attribute(
        request.workspace,  # type: ignore[attr-defined]
        payload.name,
        payload.type,
        browser_writable=payload.browser_writable,
    )
    return Status(201, attribute_out(definition_to_attr(d)))


@router.patch("/attributes/{name}", response={200: AttributeOut, 404: ErrorOut, 422: ErrorOut})
def patch_attribute(request: HttpRequest, name: str, payload: AttributePatch) -> Any:
    attr = actions.change_attribute(
        request.workspace,  # type: ignore[attr-defined]
        name,
        archived=payload.archived,
        browser_writable=payload.browser_writable,
    )
    return attribute_out(attr)


@router.delete("/attributes/{name}", response={204: None, 404: ErrorOut, 422: ErrorOut})
def delete_attribute(request: HttpRequest, name: str) -> Any:
    actions.delete_attribute(request.workspace, name)  # type: ignore[attr-defined]
    return Status(204, None)
