from django.apps import AppConfig


class CensusConfig(AppConfig):
    name = "backend.census"
    label = "census"
    verbose_name = "Census"
