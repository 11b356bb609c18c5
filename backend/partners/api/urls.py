"""The partner API, under /api/v1/partner/ (docs/partners.md)."""

from django.urls import include, path

from backend.partners.api.availability import AvailabilityView
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
]
