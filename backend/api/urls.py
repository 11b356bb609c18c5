from django.urls import include, path
from rest_framework.routers import DefaultRouter

from backend.accounts.api.views import MeView, ObtainTokenView
from backend.care.api.views import ClientViewSet, EpisodeViewSet, PlacementViewSet, TransferViewSet
from backend.network.api.views import LevelOfCareViewSet, ProgramViewSet, SiteViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("levels-of-care", LevelOfCareViewSet, basename="level-of-care")
router.register("sites", SiteViewSet, basename="site")
router.register("programs", ProgramViewSet, basename="program")
router.register("clients", ClientViewSet, basename="client")
router.register("episodes", EpisodeViewSet, basename="episode")
router.register("placements", PlacementViewSet, basename="placement")
router.register("transfers", TransferViewSet, basename="transfer")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("me/", MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
