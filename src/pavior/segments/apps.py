from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "pavior.segments"
    label = "segments"
