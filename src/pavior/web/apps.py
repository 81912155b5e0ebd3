from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "pavior.web"
    label = "web"
