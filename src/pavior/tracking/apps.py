from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "pavior.tracking"
    label = "tracking"
