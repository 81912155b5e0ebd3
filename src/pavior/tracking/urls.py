"""Public website endpoints: the snippet script, the tracking intake, Segment intake."""

from django.urls import path

from pavior.tracking import segment, views

urlpatterns = [
    path("pavior.js", views.script, name="pavior-js"),
    path("api/v1/track", views.track, name="track"),
    path("api/v1/track/noop", views.noop, name="track-noop"),
    path("v1/batch", segment.batch, name="segment-batch"),
    path("v1/identify", segment.single, {"kind": "identify"}, name="segment-identify"),
    path("v1/track", segment.single, {"kind": "track"}, name="segment-track"),
    path("v1/page", segment.single, {"kind": "page"}, name="segment-page"),
    path("v1/screen", segment.single, {"kind": "screen"}, name="segment-screen"),
]
