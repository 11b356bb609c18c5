from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from oauth2_provider import views as oauth2_views

from backend.api.errors import api_unknown_path
from backend.work.api.views import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("dashboard/", include("backend.dashboard.urls")),
    # The staff's workspaces: /, /board/, /clients/<id>/, /transfers/, /follow-ups/.
    path("", include("backend.workspaces.urls")),
    path("health/", health, name="health"),
    # Partner systems: the OAuth2 client-credentials grant, and revoking a token.
    path("oauth/token/", oauth2_views.TokenView.as_view(), name="oauth-token"),
    path("oauth/revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="oauth-revoke"),
    # FHIR R4, read-only, for staff and partners with fhir:read (docs/fhir.md).
    path("fhir/", include("backend.fhir.urls")),
    path("api/v1/", include("backend.api.urls")),
    path("api/auth/", include("rest_framework.urls", namespace="rest_framework")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start script as a file (?script=) rather than inline,
    # so both pages pass the Content-Security-Policy (backend/security.py).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="api_docs/swagger_ui.html"
        ),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api_docs/redoc.html"),
        name="redoc",
    ),
    # Last: whatever else is under /api/ is a problem document, DEBUG on or off.
    re_path(r"^api/", api_unknown_path, name="api-unknown-path"),
]

handler404 = "backend.api.errors.api_not_found"
handler500 = "backend.api.errors.api_server_error"
