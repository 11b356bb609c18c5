from django.urls import path

from backend.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("census/", views.census_dashboard, name="census"),
    path("aftercare/", views.aftercare_dashboard, name="aftercare"),
]
