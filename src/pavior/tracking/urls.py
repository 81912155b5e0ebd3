"""Public website paths served by Django: the snippet's script.

The intake (`/api/v1/track`, `/v1/batch`, `/v1/identify`, `/v1/track`,
`/v1/page`, `/v1/screen`) is answered before Django by pavior.tracking.lean.
"""

from django.urls import path

from pavior.tracking import views

urlpatterns = [
    path("pavior.js", views.script, name="pavior-js"),
    path("pavior-messenger.css", views.stylesheet, name="pavior-messenger-css"),
]
