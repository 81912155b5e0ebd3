from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "pavior.workspaces"
    label = "workspaces"
