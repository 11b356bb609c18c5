"""Consents and the accounting of disclosures, for staff (docs/consent.md).

    GET, POST /api/v1/clients/{id}/consents/     a client's consents; record one
    GET  /api/v1/consents/                       the consents you may see
    GET  /api/v1/consents/{id}/                  one consent, each element of §2.31
    POST /api/v1/consents/{id}/revoke/           the written revocation (§2.33)
    GET  /api/v1/consents/{id}/document/         the signed file, its SHA-256 in headers
    GET  /api/v1/clients/{id}/disclosures/       the accounting (§2.25), JSON or CSV

Visibility and every rule are services/consent.py's (over services/access.py):
a client or consent you may not see is a 404. The accounting has no write
endpoint: it is append-only.
"""

import base64

import django_filters
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from backend.api.filters import BooleanFilter
from backend.api.renderers import CSVRenderer, JSONRenderer
from backend.api.schema import problem_responses
from backend.api.viewsets import AuditedRetrieveMixin, VisibleModelViewSet
from backend.audit.models import AuditAction
from backend.partners.api import examples
from backend.partners.api.serializers import (
    DISCLOSURE_CSV_COLUMNS,
    ConsentCreateSerializer,
    ConsentRevokeSerializer,
    ConsentSerializer,
    DisclosureSerializer,
    disclosure_csv_row,
)
from backend.partners.models import Consent, Disclosure
from services import consent as consents
from services.audit import audit_reads

TAGS = ["consents"]
DIGEST_HEADERS = [
    OpenApiParameter(
        "Repr-Digest",
        type=str,
        location=OpenApiParameter.HEADER,
        response=[200],
        description="RFC 9530: `sha-256=:<base64>:` of the file.",
    ),
    OpenApiParameter(
        "X-Content-SHA256",
        type=str,
        location=OpenApiParameter.HEADER,
        response=[200],
        description="The file's SHA-256 in hex, as `document_sha256`.",
    ),
]


def _render(request, consent) -> dict:
    return ConsentSerializer(consent, context={"request": request}).data


def document_response(consent: Consent) -> HttpResponse:
    """The signed file as stored, with its recorded checksum in two headers."""
    with consent.document.open("rb") as handle:
        content = handle.read()
    response = HttpResponse(content, content_type="application/octet-stream")
    name = consent.document_name.replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    digest = base64.b64encode(bytes.fromhex(consent.document_sha256)).decode()
    response["Repr-Digest"] = f"sha-256=:{digest}:"
    response["X-Content-SHA256"] = consent.document_sha256
    return response


DOCUMENT_RESPONSES = {
    (200, "application/octet-stream"): OpenApiTypes.BINARY,
    **problem_responses(404),
}


# --- a client's consents ---------------------------------------------------------


class ClientConsentsView(GenericAPIView):
    queryset = Consent.objects.none()  # the schema's; every read goes through services
    serializer_class = ConsentSerializer

    @extend_schema(
        tags=TAGS,
        operation_id="clients_consents_list",
        summary="The client's consents to disclose (42 CFR Part 2), newest first",
        responses={200: ConsentSerializer(many=True), **problem_responses(404)},
        examples=[examples.CONSENT],
    )
    def get(self, request, pk):
        rows = consents.consents_of_client(actor=request.user, client=pk)
        page = self.paginate_queryset(rows)
        consents.consents_audit_read(
            actor=request.user, consents=page, action=AuditAction.LIST, path=request.path
        )
        data = ConsentSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        tags=TAGS,
        operation_id="clients_consents_create",
        summary="Record a signed consent",
        description=(
            "Every element of 42 CFR 2.31, and the signed document base64-encoded in "
            "`document` (its SHA-256 is stored). A recipient by name (`recipient_partner`) "
            "or, in a single TPO consent, by class (`recipient_class`); `expiry` `none` only "
            "for TPO. Each broken rule is a 400 naming its field."
        ),
        request=ConsentCreateSerializer,
        responses={201: ConsentSerializer, **problem_responses(400, 404)},
        examples=[examples.CONSENT_CREATE, examples.CONSENT],
    )
    def post(self, request, pk):
        client = consents.consent_client(actor=request.user, client=pk)  # 404 before a 400
        serializer = ConsentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recorded = consents.consent_record(
            actor=request.user, client=client, **serializer.validated_data
        )
        consent = consents.consent_get(actor=request.user, consent_id=recorded.pk)
        return Response(_render(request, consent), status=status.HTTP_201_CREATED)


# --- consents --------------------------------------------------------------------


class ConsentFilter(django_filters.FilterSet):
    client = django_filters.UUIDFilter(field_name="client_id")
    is_active = BooleanFilter(field_name="is_active", help_text="true: in force now.")


@extend_schema_view(
    list=extend_schema(
        tags=TAGS,
        summary="The consents of the clients whose consents you keep",
        responses={200: ConsentSerializer(many=True), **problem_responses(400)},
        examples=[examples.CONSENT],
    ),
    retrieve=extend_schema(
        tags=TAGS,
        summary="One consent",
        responses={200: ConsentSerializer, **problem_responses(404)},
        examples=[examples.CONSENT],
    ),
    revoke=extend_schema(
        tags=TAGS,
        summary="Record the client's written revocation",
        description=(
            "`received_on` is the day the revocation in writing was received. Disclosure "
            "under the consent stops at once; a consent already revoked is a 409."
        ),
        request=ConsentRevokeSerializer,
        responses={200: ConsentSerializer, **problem_responses(400, 404, 409)},
        examples=[examples.CONSENT_REVOKE, examples.CONSENT],
    ),
    document=extend_schema(
        tags=TAGS,
        summary="The signed consent, as uploaded",
        parameters=DIGEST_HEADERS,
        responses=DOCUMENT_RESPONSES,
        examples=[examples.DOCUMENT],
    ),
)
class ConsentViewSet(mixins.ListModelMixin, AuditedRetrieveMixin, VisibleModelViewSet):
    serializer_class = ConsentSerializer
    filterset_class = ConsentFilter
    audit_object_type = "consent"

    def visible_queryset(self, user):
        return consents.consents_visible(actor=user).order_by("-signed_on", "-recorded_at", "id")

    def page_rows(self, queryset, ids):
        return queryset.filter(pk__in=ids)  # with `is_active`, which the serializer reads

    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        consent = self.get_object()
        serializer = ConsentRevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consents.consent_revoke(actor=request.user, consent=consent, **serializer.validated_data)
        return Response(_render(request, self.get_queryset().get(pk=consent.pk)))

    @action(detail=True, methods=["get"])
    def document(self, request, pk=None):
        consent = self.get_object()
        self.audit([consent], document=True)
        return document_response(consent)


# --- the accounting of disclosures -------------------------------------------------


class ClientDisclosuresView(GenericAPIView):
    queryset = Disclosure.objects.none()  # the schema's; every read goes through services
    serializer_class = DisclosureSerializer
    renderer_classes = [JSONRenderer, CSVRenderer]
    csv_columns = DISCLOSURE_CSV_COLUMNS

    @extend_schema(
        tags=TAGS,
        operation_id="clients_disclosures_list",
        summary="The client's accounting of disclosures (42 CFR 2.25), the last three years",
        description=(
            "Each disclosure to a partner: when, to whom, what (the kinds of information "
            "in words and the records by kind and id), for which purpose, under which "
            "consent. Newest first, paginated; `?format=csv` (or `Accept: text/csv`) "
            "answers the whole three years as CSV, one row per disclosure."
        ),
        parameters=[
            OpenApiParameter(
                "format", str, enum=["json", "csv"], description="csv: every row, as CSV."
            )
        ],
        responses={200: DisclosureSerializer(many=True), **problem_responses(404)},
        examples=[examples.DISCLOSURES],
    )
    def get(self, request, pk):
        rows = consents.disclosures_of_client(actor=request.user, client=pk)
        csv = request.accepted_renderer.format == "csv"
        page = list(rows) if csv else self.paginate_queryset(rows)
        audit_reads(
            actor=request.user,
            object_type="disclosure",
            action=AuditAction.LIST,
            records=[(d.pk, d.client_id) for d in page],
            detail={"path": request.path},
        )
        if csv:
            return Response([disclosure_csv_row(d) for d in page])
        return self.get_paginated_response(DisclosureSerializer(page, many=True).data)
