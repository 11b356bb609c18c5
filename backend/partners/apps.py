from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "backend.partners"
    verbose_name = "Partner systems and consent"
