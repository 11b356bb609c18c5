"""/api/v1/partners/: organisation admins manage partner organisations and their
OAuth2 credentials (anyone else: 404, as for /ops/work/)."""

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from backend.api.schema import problem_responses
from backend.api.viewsets import VisibleModelViewSet
from backend.network.models import Site
from backend.partners.models import PARTNER_SETTINGS, Partner, PartnerKind, Scope
from services import partners
from services.errors import InvalidInput

PARTNER_ID = "9e1a3c5e-7a9c-4e1a-9c3e-5a7c9e1a3c88"
SITE_ID = "7b0f8f7e-2a43-4c55-9d0e-2b1f4f0f6c11"


class CredentialSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    created = serializers.DateTimeField(help_text="When it was issued.")


class NewCredentialSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    client_secret = serializers.CharField(
        help_text="Shown this once: only its hash is kept. Store it in the partner's vault."
    )


class PartnerSerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))
    sites = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    allowed_origins = serializers.ListField(
        child=serializers.CharField(),
        help_text="Browser origins whose pages may call the partner API, the token endpoint "
        "and FHIR across origins (CORS). Empty: none.",
    )
    credentials = serializers.SerializerMethodField()

    class Meta:
        model = Partner
        fields = ["id", *PARTNER_SETTINGS, "created_at", "credentials"]
        read_only_fields = fields
        extra_kwargs = {"rate_limit": {"allow_blank": True}, "contact_email": {"allow_blank": True}}

    @extend_schema_field(CredentialSerializer(many=True))
    def get_credentials(self, partner):
        # Prefetched by the view: no query per partner.
        apps = sorted(partner.user.oauth2_provider_application.all(), key=lambda a: a.created)
        return [{"client_id": a.client_id, "created": a.created} for a in apps]


class PartnerWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(
        choices=PartnerKind.choices,
        required=False,
        help_text="The recipient class a TPO consent may name it by.",
    )
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))
    sites = serializers.ListField(
        child=serializers.UUIDField(), help_text="The sites it may reach."
    )
    rate_limit = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        help_text='Requests per period, such as "120/min"; blank: the platform default.',
    )
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=300),
        required=False,
        max_length=partners.MAX_ORIGINS,
        help_text="Browser origins allowed to call the partner surfaces (CORS): "
        '"https://host[:port]" each; http only for "http://localhost[:port]". '
        "Replaces the list.",
    )


class PartnerUpdateSerializer(PartnerWriteSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("name")
        for field in self.fields.values():
            field.required = False


class PartnerCreatedSerializer(serializers.Serializer):
    partner = PartnerSerializer()
    credential = NewCredentialSerializer()


def _sites(ids) -> list[Site]:
    found = {s.pk: s for s in Site.objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(f"Unknown site {missing[0]}.", field="sites")
    return [found[i] for i in ids]


PARTNER_EXAMPLE = {
    "id": PARTNER_ID,
    "name": "St. Example Hospital",
    "kind": "treating_provider",
    "scopes": ["availability:read", "referrals:write", "referrals:read"],
    "sites": [SITE_ID],
    "rate_limit": "",
    "contact_email": "integrations@st-example.org",
    "allowed_origins": ["https://portal.st-example.org"],
    "is_active": True,
    "created_at": "2026-12-07T15:04:05Z",
    "credentials": [{"client_id": "hY3kq0...", "created": "2026-12-07T15:04:05Z"}],
}

CREDENTIAL_EXAMPLE = {"client_id": "hY3kq0...", "client_secret": "shown-once..."}
MANAGE_ERRORS = problem_responses(400, 404)


@extend_schema_view(
    list=extend_schema(
        summary="Partner organisations (organisation admins)",
        responses={200: PartnerSerializer(many=True), **problem_responses(404)},
        examples=[OpenApiExample("A hospital", value=PARTNER_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One partner organisation",
        responses={200: PartnerSerializer, **problem_responses(404)},
        examples=[OpenApiExample("A hospital", value=PARTNER_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Register a partner; its first credential's secret is in this answer only",
        request=PartnerWriteSerializer,
        responses={201: PartnerCreatedSerializer, **MANAGE_ERRORS},
        examples=[
            OpenApiExample(
                "A discharge planner's system",
                request_only=True,
                value={
                    "name": "St. Example Hospital",
                    "kind": "treating_provider",
                    "scopes": ["availability:read", "referrals:write", "referrals:read"],
                    "sites": [SITE_ID],
                },
            ),
            OpenApiExample(
                "Registered",
                response_only=True,
                value={"partner": PARTNER_EXAMPLE, "credential": CREDENTIAL_EXAMPLE},
            ),
        ],
    ),
    partial_update=extend_schema(
        summary="Change a partner's scopes, sites, rate limit, contact or browser origins",
        description="Takes effect on the partner's next request.",
        request=PartnerUpdateSerializer,
        responses={200: PartnerSerializer, **MANAGE_ERRORS},
        examples=[
            OpenApiExample(
                "Add a scope", request_only=True, value={"scopes": ["availability:read"]}
            ),
            OpenApiExample(
                "Let its portal call the partner API from the browser",
                request_only=True,
                value={"allowed_origins": ["https://portal.st-example.org"]},
            ),
            OpenApiExample("Changed", value=PARTNER_EXAMPLE, response_only=True),
        ],
    ),
    suspend=extend_schema(
        summary="Suspend a partner: its tokens end now and no new one is issued",
        request=None,
        responses={200: PartnerSerializer, **problem_responses(404)},
        examples=[
            OpenApiExample(
                "Suspended", value={**PARTNER_EXAMPLE, "is_active": False}, response_only=True
            )
        ],
    ),
    reactivate=extend_schema(
        summary="Let a suspended partner sign in again",
        request=None,
        responses={200: PartnerSerializer, **problem_responses(404)},
        examples=[OpenApiExample("Active", value=PARTNER_EXAMPLE, response_only=True)],
    ),
    credentials=extend_schema(
        operation_id="partners_credentials_create",
        summary="Issue another credential (rotation: both work until the old is revoked)",
        request=None,
        responses={201: NewCredentialSerializer, **problem_responses(404)},
        examples=[OpenApiExample("Issued", value=CREDENTIAL_EXAMPLE, response_only=True)],
    ),
    revoke_credential=extend_schema(
        operation_id="partners_credentials_revoke",
        summary="Revoke a credential and every token issued under it",
        description="The last credential cannot be revoked (400): issue the next one first.",
        request=None,
        responses={200: PartnerSerializer, **MANAGE_ERRORS},
        examples=[OpenApiExample("Revoked", value=PARTNER_EXAMPLE, response_only=True)],
    ),
)
class PartnerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleModelViewSet):
    serializer_class = PartnerSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Not an organisation admin: no such endpoint, as for /ops/work/.
        if not partners.may_manage_partners(request.user):
            raise NotFound()

    def visible_queryset(self, user):
        return partners.partners_visible_to(user).order_by("name")

    def with_relations(self, queryset):
        return queryset.select_related("user").prefetch_related(
            "sites", "user__oauth2_provider_application"
        )

    def _answer(self, partner, code=status.HTTP_200_OK) -> Response:
        return Response(PartnerSerializer(self.get_queryset().get(pk=partner.pk)).data, status=code)

    def create(self, request):
        body = PartnerWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        partner, credential = partners.partner_create(
            actor=request.user,
            name=data["name"],
            kind=data.get("kind", PartnerKind.OTHER),
            scopes=data["scopes"],
            sites=_sites(data["sites"]),
            contact_email=data.get("contact_email", ""),
            rate_limit=data.get("rate_limit", ""),
            allowed_origins=data.get("allowed_origins", []),
        )
        answer = {
            "partner": PartnerSerializer(self.get_queryset().get(pk=partner.pk)).data,
            "credential": {
                "client_id": credential.client_id,
                "client_secret": credential.client_secret,
            },
        }
        return Response(
            answer,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/partners/{partner.pk}/", "Cache-Control": "no-store"},
        )

    def partial_update(self, request, pk=None):
        partner = self.get_object()
        body = PartnerUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        if "sites" in changes:
            changes["sites"] = _sites(changes["sites"])
        partners.partner_update(actor=request.user, partner=partner, changes=changes)
        return self._answer(partner)

    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        partner = self.get_object()
        partners.partner_suspend(actor=request.user, partner=partner)
        return self._answer(partner)

    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        partner = self.get_object()
        partners.partner_reactivate(actor=request.user, partner=partner)
        return self._answer(partner)

    @action(detail=True, methods=["post"])
    def credentials(self, request, pk=None):
        partner = self.get_object()
        credential = partners.credential_add(actor=request.user, partner=partner)
        return Response(
            {"client_id": credential.client_id, "client_secret": credential.client_secret},
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )

    @action(
        detail=True,
        methods=["post"],
        url_path=r"credentials/(?P<client_id>[^/]+)/revoke",
        url_name="credential-revoke",
    )
    def revoke_credential(self, request, pk=None, client_id=None):
        partner = self.get_object()
        partners.credential_revoke(actor=request.user, partner=partner, client_id=client_id)
        return self._answer(partner)
