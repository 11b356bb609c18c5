"""The partner API, under /api/v1/partner/ (docs/partners.md)."""

from django.urls import path

from backend.partners.api.availability import AvailabilityView
from backend.partners.api.reads import (
    PartnerClientEpisodesView,
    PartnerClientsView,
    PartnerClientView,
    PartnerConsentDocumentView,
    PartnerConsentView,
)

urlpatterns = [
    path("availability/", AvailabilityView.as_view(), name="partner-availability"),
    path("clients/", PartnerClientsView.as_view(), name="partner-clients"),
    path("clients/<uuid:pk>/", PartnerClientView.as_view(), name="partner-client"),
    path(
        "clients/<uuid:pk>/episodes/",
        PartnerClientEpisodesView.as_view(),
        name="partner-client-episodes",
    ),
    path("consents/<uuid:pk>/", PartnerConsentView.as_view(), name="partner-consent"),
    path(
        "consents/<uuid:pk>/document/",
        PartnerConsentDocumentView.as_view(),
        name="partner-consent-document",
    ),
]
