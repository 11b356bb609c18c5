from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "backend.fhir"
    verbose_name = "FHIR R4 read API"
