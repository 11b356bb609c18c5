from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "backend.webhooks"
    verbose_name = "Webhooks to partner systems"
