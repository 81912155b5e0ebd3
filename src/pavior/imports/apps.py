from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "pavior.imports"
    label = "imports"
