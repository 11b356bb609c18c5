"""The FHIR R4 read API under /fhir/ (docs/fhir.md). Each view parses the
search parameters, calls one function of services/fhir.py, and renders what it
returns with backend/fhir/resources.py.

These views are not part of the JSON API's OpenAPI contract: they are left out
of /api/schema/, and GET /fhir/metadata (the CapabilityStatement) describes them.
"""

import orjson
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.throttling import PartnerRateThrottle
from backend.fhir import resources
from backend.fhir.capability import capability_statement
from backend.fhir.http import (
    FHIRContentNegotiation,
    FHIRJSONRenderer,
    StaffOrPartnerScope,
    fhir_exception_handler,
)
from backend.partners.api.part2 import part2_headers
from backend.partners.models import Scope
from services import fhir
from services.errors import InvalidInput

MSG_UNKNOWN_PARAMETER = "Unknown search parameter {name!r}."
MSG_REPEATED_PARAMETER = "Give {name} once."
MSG_PATIENT_REQUIRED = "Required: the patient whose records to search (patient={id})."
MSG_ID_REQUIRED = "Required: the patients' ids (_id={id}, or several separated by commas)."
MSG_NO_SUCH_ENDPOINT = "No such FHIR endpoint; GET /fhir/metadata lists those there are."

COMMON_PARAMETERS = frozenset({"_format"})


@extend_schema(exclude=True)
class FHIRView(APIView):
    # Reads only: no request bodies, and no OPTIONS (DRF's would not be FHIR).
    http_method_names = ["get", "head"]
    renderer_classes = [FHIRJSONRenderer]
    parser_classes = []
    content_negotiation_class = FHIRContentNegotiation
    permission_classes = [StaffOrPartnerScope]
    throttle_classes = [PartnerRateThrottle]
    required_scope = Scope.FHIR_READ
    # The query parameters this endpoint takes besides _format; any other is a 400.
    parameters: frozenset[str] = frozenset({"_purpose"})

    def get_exception_handler(self):
        return fhir_exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        for name in request.query_params:
            if name not in self.parameters | COMMON_PARAMETERS:
                raise InvalidInput(MSG_UNKNOWN_PARAMETER.format(name=name), field=name)
            if len(request.query_params.getlist(name)) > 1:
                raise InvalidInput(MSG_REPEATED_PARAMETER.format(name=name), field=name)

    def reader(self) -> fhir.Reader:
        partner = getattr(self.request, "partner", None)
        return fhir.Reader(
            # A client-credentials token has no user of its own: the partner's service user.
            user=self.request.user if partner is None else partner.user,
            partner=partner,
            purpose=self.request.query_params.get("_purpose"),
        )

    def required(self, name: str, message: str) -> str:
        value = self.request.query_params.get(name, "").strip()
        if not value:
            raise InvalidInput(message, field=name)
        return value

    @property
    def base_url(self) -> str:
        return self.request.build_absolute_uri("/fhir")

    def consent_url(self, consent) -> str | None:
        if consent is None:
            return None
        # The same copy of the consent the JSON partner API links to.
        return self.request.build_absolute_uri(reverse("partner-consent", args=[consent.pk]))

    def part2_response(self, body: dict) -> Response:
        return Response(body, headers=part2_headers())

    def searchset(self, found: list[dict], consents) -> Response:
        urls = list(dict.fromkeys(self.consent_url(c) for c in consents if c is not None))
        return self.part2_response(
            resources.searchset(
                found,
                base_url=self.base_url,
                self_url=self.request.build_absolute_uri(),
                now=timezone.now(),
                consent_urls=urls,
            )
        )


class MetadataView(FHIRView):
    # No credentials needed, and none looked at: a client with an expired token
    # can still learn where to get a new one.
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    parameters = frozenset({"mode"})

    def get(self, request):
        return Response(
            capability_statement(
                base_url=self.base_url, token_url=request.build_absolute_uri(reverse("oauth-token"))
            )
        )


class PatientReadView(FHIRView):
    def get(self, request, patient_id):
        read = fhir.fhir_patient_read(reader=self.reader(), patient_id=patient_id)
        patient = resources.patient(read.client)
        return self.part2_response(resources.with_notice(patient, self.consent_url(read.consent)))


class PatientSearchView(FHIRView):
    parameters = frozenset({"_id", "_purpose"})

    def get(self, request):
        ids = [i.strip() for i in self.required("_id", MSG_ID_REQUIRED).split(",") if i.strip()]
        reads = fhir.fhir_patients_search(reader=self.reader(), patient_ids=ids)
        return self.searchset(
            [resources.patient(r.client) for r in reads], [r.consent for r in reads]
        )


def _patient_id(value: str) -> str:
    """`patient=` takes an id or a relative reference, Patient/{id}."""
    return value.removeprefix("Patient/")


class EpisodeOfCareSearchView(FHIRView):
    parameters = frozenset({"patient", "_purpose"})

    def get(self, request):
        patient = _patient_id(self.required("patient", MSG_PATIENT_REQUIRED))
        read = fhir.fhir_episodes_read(reader=self.reader(), patient_id=patient)
        found = [resources.episode_of_care(e, e.stays) for e in read.episodes]
        return self.searchset(found, [read.consent])


class EpisodeOfCareReadView(FHIRView):
    def get(self, request, episode_id):
        read = fhir.fhir_episode_read(reader=self.reader(), episode_id=episode_id)
        (episode,) = read.episodes
        resource = resources.episode_of_care(episode, episode.stays)
        return self.part2_response(resources.with_notice(resource, self.consent_url(read.consent)))


class EncounterReadView(FHIRView):
    def get(self, request, placement_id):
        read = fhir.fhir_encounter_read(reader=self.reader(), placement_id=placement_id)
        (placement,) = read.placements
        resource = resources.encounter(placement)
        return self.part2_response(resources.with_notice(resource, self.consent_url(read.consent)))


class EncounterSearchView(FHIRView):
    parameters = frozenset({"patient", "_purpose"})

    def get(self, request):
        patient = _patient_id(self.required("patient", MSG_PATIENT_REQUIRED))
        read = fhir.fhir_encounters_read(reader=self.reader(), patient_id=patient)
        found = [resources.encounter(p) for p in read.placements]
        return self.searchset(found, [read.consent])


@csrf_exempt
def unknown_path(request, rest=""):
    """Whatever else is under /fhir/: a 404 OperationOutcome, not an HTML page."""
    body = resources.operation_outcome(404, MSG_NO_SUCH_ENDPOINT)
    return HttpResponse(orjson.dumps(body), status=404, content_type=resources.FHIR_JSON)
