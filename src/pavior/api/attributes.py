"""/attributes: list, create, archive/lock, delete."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from pavior.api.schemas import AttributeCreate, AttributeOut, AttributePatch, ErrorOut
from pavior.core.attributes import AttributeDef, Trust, builtin
from pavior.core.errors import InvalidValue, NotFound
from pavior.people import actions
from pavior.people.queries import all_attributes, definition_to_attr, get_attribute

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
    workspace = request.workspace  # type: ignore[attr-defined]
    if builtin(name) is not None:
        if payload.archived is not None:
            raise InvalidValue(
                f"{name} is a built-in attribute; it cannot be archived", field="archived"
            )
        attr = builtin(name)
        assert attr is not None
        if payload.browser_writable is not None:
            if Trust.BROWSER not in attr.writable_by:
                raise InvalidValue(
                    f"{name} is never written by the browser", field="browser_writable"
                )
            actions.set_builtin_browser_writable(workspace, name, payload.browser_writable)
        found = get_attribute(workspace, name)
        assert found is not None
        return attribute_out(found)
    d = actions.update_attribute(
        workspace, name, archived=payload.archived, browser_writable=payload.browser_writable
    )
    return attribute_out(definition_to_attr(d))


@router.delete("/attributes/{name}", response={204: None, 404: ErrorOut, 422: ErrorOut})
def delete_attribute(request: HttpRequest, name: str) -> Any:
    if builtin(name) is not None:
        raise InvalidValue(f"{name} is a built-in attribute; it cannot be deleted", field="name")
    if get_attribute(request.workspace, name) is None:  # type: ignore[attr-defined]
        raise NotFound(f'No custom attribute named "{name}"', field="name")
    actions.delete_attribute(request.workspace, name)  # type: ignore[attr-defined]
    return Status(204, None)
