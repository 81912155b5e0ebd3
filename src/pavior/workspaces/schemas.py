"""The JSON error body every door of a workspace answers with (SPEC §10).

It lives in the lowest package that may use ninja, so that each package's own
router (tracking/api.py, imports/api.py) documents its errors without
importing pavior.api, which sits above them and mounts them.
"""

from __future__ import annotations

from ninja import Schema


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None


class ErrorOut(Schema):
    error: ErrorDetail
