from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "backend.partners"
    verbose_name = "Partner systems and consent"

    def ready(self) -> None:
        # Connects the CORS check of partners' origins (django-cors-headers' signal).
        from backend.partners import cors  # noqa: F401
