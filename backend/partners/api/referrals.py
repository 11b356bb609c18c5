"""Partner referrals: POST /api/v1/partner/referrals/ (referrals:write), and the
partner's own referrals with their status (referrals:read)."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from backend.aftercare.models import Referral
from backend.api.pagination import PageNumberPagination
from backend.api.schema import partner_auth, problem_responses
from backend.network.models import LevelCode, Site
from backend.partners.api.base import IDEMPOTENCY_KEY, RETRY_AFTER, PartnerAPIMixin, idempotent
from backend.partners.models import PartnerReferralStatus, Scope, Urgency
from services.errors import InvalidInput
from services.referrals import partner as partner_referrals

MSG_UNKNOWN_SITE = "Unknown site."

TREATMENT_LEVELS = [(c.value, c.label) for c in LevelCode if c != LevelCode.ALUMNI]


class PartnerReferralCreateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=80)
    last_name = serializers.CharField(max_length=80)
    date_of_birth = serializers.DateField()
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    requested_level = serializers.ChoiceField(
        choices=TREATMENT_LEVELS, help_text="The level of care asked for."
    )
    site = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="One of your sites (GET /partner/availability/); leave out for any of them.",
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    payer = serializers.CharField(max_length=120, required=False, allow_blank=True)
    clinical_summary = serializers.CharField(
        required=False, allow_blank=True, help_text="What the receiving team needs to know."
    )
    referrer_name = serializers.CharField(max_length=120, help_text="Who to call back.")
    referrer_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    referrer_email = serializers.EmailField(required=False, allow_blank=True)
    consent_reference = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        help_text="Your reference of the consent under which you send this, where one exists.",
    )


class PartnerReferralSerializer(serializers.Serializer):
    """A referral as its partner sees it: what it sent, and where it stands.
    Nothing of the client record it may have become."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=PartnerReferralStatus.choices,
        help_text=(
            "received: in the coordinators' queue; accepted: the team took the person on; "
            "admitted: admitted into a program; declined: see `reason`; cancelled."
        ),
    )
    reason = serializers.CharField(
        allow_null=True, help_text="Why it was declined or cancelled; null otherwise."
    )
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    requested_level = serializers.ChoiceField(choices=TREATMENT_LEVELS)
    site = serializers.UUIDField(allow_null=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    consent_reference = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, referral: Referral):
        return super().to_representation(partner_referrals.partner_view(referral))


EXAMPLE_REQUEST = {
    "first_name": "Jordan",
    "last_name": "Example",
    "date_of_birth": "1990-04-01",
    "phone": "+15125550100",
    "requested_level": "detox",
    "site": "7b0f8f7e-2a43-4c55-9d0e-2b1f4f0f6c11",
    "urgency": "urgent",
    "payer": "Example Health Plan",
    "clinical_summary": "Alcohol withdrawal, CIWA 14; medically stable for transport.",
    "referrer_name": "Dana Planner, RN",
    "referrer_phone": "+15125550199",
    "consent_reference": "ST-EX-2026-0412",
}
EXAMPLE_RESPONSE = {
    "id": "0c9f3e1a-5d7b-4f7e-9a41-7b2f1b8d2c55",
    "status": "received",
    "reason": None,
    "first_name": "Jordan",
    "last_name": "Example",
    "date_of_birth": "1990-04-01",
    "requested_level": "detox",
    "site": "7b0f8f7e-2a43-4c55-9d0e-2b1f4f0f6c11",
    "urgency": "urgent",
    "consent_reference": "ST-EX-2026-0412",
    "created_at": "2026-12-07T15:04:05Z",
    "closed_at": None,
}


class PartnerReferralListView(PartnerAPIMixin, GenericAPIView):
    required_scope = {"GET": Scope.REFERRALS_READ, "POST": Scope.REFERRALS_WRITE}
    serializer_class = PartnerReferralSerializer
    pagination_class = PageNumberPagination

    @extend_schema(
        summary="Your referrals, newest first, with where each stands",
        tags=["partner"],
        operation_id="partner_referrals_list",
        auth=[partner_auth(Scope.REFERRALS_READ)],
        parameters=[
            OpenApiParameter(
                "status",
                enum=PartnerReferralStatus.values,
                required=False,
                description="Only referrals in this state.",
            ),
            RETRY_AFTER,
        ],
        responses={200: PartnerReferralSerializer(many=True), **problem_responses(400, 403, 429)},
        examples=[OpenApiExample("Received", response_only=True, value=EXAMPLE_RESPONSE)],
    )
    def get(self, request):
        wanted = request.query_params.get("status")
        if wanted is not None and wanted not in PartnerReferralStatus.values:
            raise InvalidInput(
                f"Choose one of: {', '.join(PartnerReferralStatus.values)}.", field="status"
            )
        referrals = partner_referrals.partner_referrals_of(request.partner, status=wanted)
        page = self.paginate_queryset(referrals)
        partner_referrals.partner_referrals_read(partner=request.partner, referrals=page)
        return self.get_paginated_response(PartnerReferralSerializer(page, many=True).data)

    @extend_schema(
        summary="Refer a person (not yet our client) to a level of care",
        description=(
            "The referral lands in the referral queue of the coordinators of the site asked "
            "for (or of all your sites). They match the person to a client or register them, "
            "then admit or decline; follow the status here or by the `referral.status_changed` "
            "webhook. Send an `Idempotency-Key` to retry safely."
        ),
        tags=["partner"],
        operation_id="partner_referrals_create",
        auth=[partner_auth(Scope.REFERRALS_WRITE)],
        parameters=[IDEMPOTENCY_KEY, RETRY_AFTER],
        request=PartnerReferralCreateSerializer,
        responses={201: PartnerReferralSerializer, **problem_responses(400, 403, 422, 429)},
        examples=[
            OpenApiExample("A detox referral", request_only=True, value=EXAMPLE_REQUEST),
            OpenApiExample("Received", response_only=True, value=EXAMPLE_RESPONSE),
        ],
    )
    def post(self, request):
        return idempotent(request, lambda: self._submit(request))

    def _submit(self, request) -> Response:
        body = PartnerReferralCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        site_id = data.pop("site", None)
        site = None
        if site_id is not None:
            site = Site.objects.filter(pk=site_id).first()
            if site is None:
                raise InvalidInput(MSG_UNKNOWN_SITE, field="site")
        referral = partner_referrals.partner_referral_submit(
            partner=request.partner, requested_site=site, **data
        )
        referral = partner_referrals.partner_referrals_of(request.partner).get(pk=referral.pk)
        return Response(
            PartnerReferralSerializer(referral).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/partner/referrals/{referral.pk}/"},
        )


class PartnerReferralDetailView(PartnerAPIMixin, GenericAPIView):
    required_scope = Scope.REFERRALS_READ
    serializer_class = PartnerReferralSerializer

    @extend_schema(
        summary="One of your referrals: its status and, if declined, the reason",
        tags=["partner"],
        operation_id="partner_referrals_retrieve",
        auth=[partner_auth(Scope.REFERRALS_READ)],
        parameters=[RETRY_AFTER],
        responses={200: PartnerReferralSerializer, **problem_responses(403, 404, 429)},
        examples=[OpenApiExample("Received", response_only=True, value=EXAMPLE_RESPONSE)],
    )
    def get(self, request, pk):
        referral = partner_referrals.partner_referral_for_partner(
            partner=request.partner, referral_id=pk
        )
        return Response(PartnerReferralSerializer(referral).data)
