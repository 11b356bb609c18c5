from django.urls import include, path
from rest_framework.routers import DefaultRouter

from backend.accounts.api.views import MeView, ObtainTokenView
from backend.aftercare.api.views import AftercarePlanView, FollowUpViewSet, ReferralViewSet
from backend.api.index import ApiIndexView
from backend.audit.api.views import AuditEventListView
from backend.care.api.views import ClientViewSet, EpisodeViewSet, PlacementViewSet, TransferViewSet
from backend.census.api.views import (
    CensusDailyView,
    CensusMovementView,
    CensusView,
    LengthOfStayView,
)
from backend.handoffs.api.views import HandoffViewSet
from backend.network.api.views import LevelOfCareViewSet, ProgramViewSet, SiteViewSet
from backend.notifications.api.views import NotificationViewSet
from backend.partners.api.consents import (
    ClientConsentsView,
    ClientDisclosuresView,
    ConsentViewSet,
)
from backend.partners.api.manage import PartnerViewSet
from backend.work.api.views import WorkStatusView

router = DefaultRouter()
router.include_root_view = False
router.register("levels-of-care", LevelOfCareViewSet, basename="level-of-care")
router.register("sites", SiteViewSet, basename="site")
router.register("programs", ProgramViewSet, basename="program")
router.register("clients", ClientViewSet, basename="client")
router.register("episodes", EpisodeViewSet, basename="episode")
router.register("placements", PlacementViewSet, basename="placement")
router.register("transfers", TransferViewSet, basename="transfer")
router.register("handoffs", HandoffViewSet, basename="handoff")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("partners", PartnerViewSet, basename="partner")
router.register("consents", ConsentViewSet, basename="consent")

urlpatterns = [
    path("", ApiIndexView.as_view(), name="api-index"),
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("me/", MeView.as_view(), name="me"),
    path("partner/", include("backend.partners.api.urls")),
    path("ops/work/", WorkStatusView.as_view(), name="ops-work"),
    path("audit/", AuditEventListView.as_view(), name="audit"),
    path("census/", CensusView.as_view(), name="census"),
    path("census/daily/", CensusDailyView.as_view(), name="census-daily"),
    path("census/movement/", CensusMovementView.as_view(), name="census-movement"),
    path("census/length-of-stay/", LengthOfStayView.as_view(), name="census-length-of-stay"),
    path("aftercare/metrics/", include("backend.aftercare.api.metrics")),
    # Before the router: the plan hangs off a client but is not ClientViewSet's.
    path(
        "clients/<uuid:pk>/aftercare-plan/",
        AftercarePlanView.as_view(),
        name="client-aftercare-plan",
    ),
    path("clients/<uuid:pk>/consents/", ClientConsentsView.as_view(), name="client-consents"),
    path(
        "clients/<uuid:pk>/disclosures/",
        ClientDisclosuresView.as_view(),
        name="client-disclosures",
    ),
    path("", include(router.urls)),
]
