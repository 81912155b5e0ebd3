"""URL map: website tracking, the REST API, the admin pages."""

from django.urls import include, path

from pavior.api.main import api

urlpatterns = [
    path("", include("pavior.tracking.urls")),
    path("api/v1/", api.urls),
    path("", include("pavior.web.urls")),
]
