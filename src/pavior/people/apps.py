from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "pavior.people"
    label = "people"
