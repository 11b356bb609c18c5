"""The FHIR R4 read API, mounted at /fhir/ (docs/fhir.md). FHIR's paths have no
trailing slash."""

from django.urls import path, re_path

from backend.fhir import views

urlpatterns = [
    path("metadata", views.MetadataView.as_view(), name="fhir-metadata"),
    path("Patient", views.PatientSearchView.as_view(), name="fhir-patient-search"),
    path("Patient/<str:patient_id>", views.PatientReadView.as_view(), name="fhir-patient"),
    path("EpisodeOfCare", views.EpisodeOfCareSearchView.as_view(), name="fhir-episodes"),
    path(
        "EpisodeOfCare/<str:episode_id>", views.EpisodeOfCareReadView.as_view(), name="fhir-episode"
    ),
    path("Encounter", views.EncounterSearchView.as_view(), name="fhir-encounters"),
    path("Encounter/<str:placement_id>", views.EncounterReadView.as_view(), name="fhir-encounter"),
    re_path(r"^(?P<rest>.*)$", views.unknown_path, name="fhir-unknown-path"),
]
