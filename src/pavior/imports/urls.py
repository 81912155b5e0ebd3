"""Import wizard pages (under /imports/)."""

from django.urls import path

from pavior.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/map/", views.map_columns, name="map"),
    path("<int:pk>/validate/", views.validate, name="validate"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/status.json", views.status, name="status"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/rejected.csv", views.rejected, name="rejected"),
]
