from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "backend.network"
    label = "network"
