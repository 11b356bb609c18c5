"""The partner API, under /api/v1/partner/ (docs/partners.md)."""

from django.urls import include, path

from backend.partners.api.availability import AvailabilityView
from backend.partners.api.reads import (
    PartnerClientEpisodesView,
    PartnerClientsView,
    PartnerClientView,
    PartnerConsentDocumentView,
    PartnerConsentView,
)
from backend.partners.api.referrals import PartnerReferralDetailView, PartnerReferralListView

urlpatterns = [
    path("availability/", AvailabilityView.as_view(), name="partner-availability"),
    path("referrals/", PartnerReferralListView.as_view(), name="partner-referral-list"),
    path(
        "referrals/<uuid:pk>/",
        PartnerReferralDetailView.as_view(),
        name="partner-referral-detail",
    ),
    path("", include("backend.webhooks.api.urls")),
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
