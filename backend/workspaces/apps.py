from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "backend.workspaces"
    label = "workspaces"
    verbose_name = "Staff workspaces"
