"""API routes of this package (added to the REST API in pavior.urls)."""

from ninja import Router

from pavior.api.main import add_router

router = Router()
add_router(router)
