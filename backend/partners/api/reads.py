"""Partner reads of client records under consent (42 CFR Part 2), docs/consent.md.

    GET /api/v1/partner/clients/                   clients:read   consented clients, a page
    GET /api/v1/partner/clients/{id}/              clients:read   one client's demographics
    GET /api/v1/partner/clients/{id}/episodes/     episodes:read  their episodes, levels of care
    GET /api/v1/partner/consents/{id}/             the copy of a consent read under
    GET /api/v1/partner/consents/{id}/document/    its signed file

The partner states its purpose with `?purpose=`; without it, the purpose its
kind reads for (services/consent.py, DEFAULT_PURPOSE_OF_KIND). A client
without an active consent covering this partner (or its class), that purpose
and that kind of information does not exist here (404), and nothing is
recorded; every record that goes out is in the client's accounting, written
in the transaction of the read. Each answer carries the §2.32 notice (part2.py).
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from backend.api.filters import QuerySerializer
from backend.api.schema import partner_auth, problem_responses
from backend.care.models import Client
from backend.partners.api import examples
from backend.partners.api.base import RETRY_AFTER, PartnerAPIMixin, PartnerAPIView
from backend.partners.api.consents import DIGEST_HEADERS, DOCUMENT_RESPONSES, document_response
from backend.partners.api.part2 import (
    PART2_HEADER,
    Part2Pagination,
    add_part2_headers,
    part2_envelope,
    part2_headers,
    part2_response,
)
from backend.partners.api.serializers import (
    PartnerClientRowSerializer,
    PartnerClientSerializer,
    PartnerConsentSerializer,
    PartnerEpisodeSerializer,
)
from backend.partners.models import Scope
from services import consent as consents
from services.consent import READ_PURPOSES

# Scopes that read under consent: the copy of a consent goes to any of them.
READING_SCOPES = (Scope.CLIENTS_READ, Scope.EPISODES_READ, Scope.FHIR_READ)

PURPOSE = OpenApiParameter(
    "purpose",
    str,
    enum=READ_PURPOSES,
    required=False,
    description=(
        "Why you read; the consent must cover it (a TPO consent covers treatment, payment "
        "and health care operations). Default: treatment for treating providers, payment "
        "for health plans and payers, health_care_operations for those helping operate "
        "the program; other partners must state it."
    ),
)


class PurposeQuery(QuerySerializer):
    purpose = serializers.ChoiceField(choices=READ_PURPOSES, required=False)


def _purpose(request) -> str | None:
    query = PurposeQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("purpose")


def _consent_url(request, consent) -> str:
    return request.build_absolute_uri(reverse("partner-consent", args=[consent.pk]))


class PartnerClientsView(PartnerAPIMixin, GenericAPIView):
    required_scope = Scope.CLIENTS_READ
    queryset = Client.objects.none()  # the schema's; the reads are the services'
    pagination_class = Part2Pagination
    serializer_class = PartnerClientRowSerializer

    @extend_schema(
        tags=["partner"],
        operation_id="partner_clients_list",
        summary="The clients of your sites who consented to disclose their demographics to you",
        description=(
            "A page of clients with an active consent naming you (or your class) for the "
            "purpose and covering demographics. Each is recorded in the client's accounting "
            "of disclosures; each row links to the copy of its consent."
        ),
        auth=[partner_auth(Scope.CLIENTS_READ)],
        parameters=[PURPOSE, PART2_HEADER, RETRY_AFTER],
        responses={200: PartnerClientRowSerializer(many=True), **problem_responses(400, 403, 429)},
        examples=[examples.PARTNER_CLIENTS],
    )
    def get(self, request):
        disclosed = consents.partner_clients_page(
            partner=request.partner, purpose=_purpose(request), read_page=self.paginate_queryset
        )
        data = PartnerClientRowSerializer(
            disclosed.records,
            many=True,
            context={"request": request, "consents": disclosed.consents},
        ).data
        return self.get_paginated_response(data)


class PartnerClientView(PartnerAPIView):
    required_scope = Scope.CLIENTS_READ

    @extend_schema(
        tags=["partner"],
        operation_id="partner_clients_retrieve",
        summary="One consented client's demographics",
        description="Without an active consent covering this read: 404, and nothing recorded.",
        auth=[partner_auth(Scope.CLIENTS_READ)],
        parameters=[PURPOSE, PART2_HEADER, RETRY_AFTER],
        responses={
            200: part2_envelope("PartnerClientRecord", PartnerClientSerializer()),
            **problem_responses(400, 403, 404, 429),
        },
        examples=[examples.PARTNER_CLIENT],
    )
    def get(self, request, pk):
        disclosed = consents.partner_client_read(
            partner=request.partner, client_id=pk, purpose=_purpose(request)
        )
        (client,) = disclosed.records
        return part2_response(
            PartnerClientSerializer(client).data,
            consent_url=_consent_url(request, disclosed.consents[client.pk]),
        )


class PartnerClientEpisodesView(PartnerAPIView):
    required_scope = Scope.EPISODES_READ

    @extend_schema(
        tags=["partner"],
        operation_id="partner_clients_episodes_list",
        summary="A consented client's episodes of care and levels of care",
        description=(
            "Needs a consent covering episodes and levels of care; one that names a single "
            "program as the discloser gives the episodes and stays of that program only."
        ),
        auth=[partner_auth(Scope.EPISODES_READ)],
        parameters=[PURPOSE, PART2_HEADER, RETRY_AFTER],
        responses={
            200: part2_envelope("PartnerEpisodesRecord", PartnerEpisodeSerializer(many=True)),
            **problem_responses(400, 403, 404, 429),
        },
        examples=[examples.PARTNER_EPISODES],
    )
    def get(self, request, pk):
        disclosed = consents.partner_episodes_read(
            partner=request.partner, client_id=pk, purpose=_purpose(request)
        )
        (consent,) = disclosed.consents.values()
        return part2_response(
            PartnerEpisodeSerializer(disclosed.records, many=True).data,
            consent_url=_consent_url(request, consent),
        )


class PartnerConsentView(PartnerAPIView):
    required_scope = READING_SCOPES

    @extend_schema(
        tags=["partner"],
        operation_id="partner_consents_retrieve",
        summary="The copy of a consent you received records under (42 CFR 2.32)",
        description="Only consents under which records were disclosed to you; others: 404.",
        auth=[partner_auth(scope) for scope in READING_SCOPES],
        parameters=[PART2_HEADER, RETRY_AFTER],
        responses={200: PartnerConsentSerializer, **problem_responses(403, 404, 429)},
        examples=[examples.PARTNER_CONSENT],
    )
    def get(self, request, pk):
        consent = consents.partner_consent_copy(partner=request.partner, consent_id=pk)
        data = PartnerConsentSerializer(consent, context={"request": request}).data
        return Response(data, headers=part2_headers())


class PartnerConsentDocumentView(PartnerAPIView):
    required_scope = READING_SCOPES

    @extend_schema(
        tags=["partner"],
        operation_id="partner_consents_document",
        summary="The signed consent you received records under",
        auth=[partner_auth(scope) for scope in READING_SCOPES],
        parameters=[*DIGEST_HEADERS, PART2_HEADER, RETRY_AFTER],
        responses={**DOCUMENT_RESPONSES, **problem_responses(403, 404, 429)},
        examples=[examples.DOCUMENT],
    )
    def get(self, request, pk):
        consent = consents.partner_consent_copy(partner=request.partner, consent_id=pk)
        response = document_response(consent)
        add_part2_headers(response)
        return response
