from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    name = "backend.handoffs"
    label = "handoffs"
