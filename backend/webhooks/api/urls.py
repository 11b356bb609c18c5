"""The partner webhook API's routes, under /api/v1/partner/ (docs/webhooks.md)."""

from django.urls import path

from backend.webhooks.api.views import (
    WebhookDeliveriesView,
    WebhookDetailView,
    WebhookListView,
    WebhookRedeliverView,
    WebhookRotateSecretView,
)

urlpatterns = [
    path("webhooks/", WebhookListView.as_view(), name="partner-webhooks"),
    path("webhooks/<uuid:pk>/", WebhookDetailView.as_view(), name="partner-webhook"),
    path(
        "webhooks/<uuid:pk>/rotate-secret/",
        WebhookRotateSecretView.as_view(),
        name="partner-webhook-rotate-secret",
    ),
    path(
        "webhooks/<uuid:pk>/deliveries/",
        WebhookDeliveriesView.as_view(),
        name="partner-webhook-deliveries",
    ),
    path(
        "webhook-deliveries/<uuid:pk>/redeliver/",
        WebhookRedeliverView.as_view(),
        name="partner-webhook-delivery-redeliver",
    ),
]
