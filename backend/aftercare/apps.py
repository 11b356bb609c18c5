from django.apps import AppConfig


class AftercareConfig(AppConfig):
    name = "backend.aftercare"
    label = "aftercare"
    verbose_name = "Aftercare and alumni follow-ups"
