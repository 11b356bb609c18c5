"""The partner API, under /api/v1/partner/ (docs/partners.md)."""

from django.urls import include, path

from backend.partners.api.availability import AvailabilityView

urlpatterns = [
    path("availability/", AvailabilityView.as_view(), name="partner-availability"),
    path("", include("backend.webhooks.api.urls")),
]
