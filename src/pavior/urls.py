"""URL map: website tracking, the REST API, the admin pages."""

from django.urls import include, path, re_path

from pavior.api.errors import unknown_endpoint
from pavior.api.main import api

urlpatterns = [
    path("", include("pavior.tracking.urls")),
    path("api/v1/", api.urls),
    # Clients of the API read JSON errors, also for an address that is not one.
    re_path(r"^api/(?P<rest>.*)$", unknown_endpoint),
    path("", include("pavior.web.urls")),
]

# A 500 names its request id, which the log's traceback carries too.
handler500 = "pavior.request_ids.server_error"
