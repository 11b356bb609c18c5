"""GET /api/v1/audit/: the audit trail, for organisation admins (anyone else: 404,
as for /ops/work/; a partner's token: 403, as on every staff endpoint).

Filters: ?client= ?actor= ?from= ?to= ?action=; newest first, paginated, or
`?format=csv`. Who may read it and what matches are services/audit_trail.py's.
"""

import orjson
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from backend.api.filters import QuerySerializer
from backend.api.renderers import CSVRenderer, JSONRenderer
from backend.api.schema import problem_responses
from backend.audit.models import AuditAction, AuditEvent
from services import audit_trail

# A CSV answers at most this many rows, the newest: narrow it with from and to.
CSV_MAX_ROWS = 10_000


class AuditQuery(QuerySerializer):
    client = serializers.UUIDField(required=False, help_text="The client whose record it is.")
    actor = serializers.IntegerField(
        required=False, min_value=1, help_text="The user id of who read or wrote."
    )
    action = serializers.ChoiceField(choices=AuditAction.choices, required=False)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: the fields are named as in the query string.
        fields["from"] = serializers.DateTimeField(
            required=False, source="since", help_text="Rows at or after this instant."
        )
        fields["to"] = serializers.DateTimeField(
            required=False, source="until", help_text="Rows before this instant."
        )
        return fields


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(
        source="actor_id", allow_null=True, help_text="The user's id; null for the system."
    )
    actor_username = serializers.CharField(source="actor.username", allow_null=True)
    client = serializers.UUIDField(source="client_id")
    detail = serializers.DictField(
        help_text="What else is known: for an update the names of the fields changed "
        "(`fields`, never their values); for a read the path and where it was shown (`via`)."
    )
    address = serializers.IPAddressField(
        allow_null=True, help_text="The client address of the request; null outside one."
    )
    user_agent = serializers.CharField(
        allow_null=True, help_text='The request\'s user agent ("" if none was sent).'
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "actor_username",
            "action",
            "object_type",
            "object_id",
            "client",
            "detail",
            "address",
            "user_agent",
        ]
        read_only_fields = fields


# The CSV has the JSON's columns, in its order; `detail` is JSON in one cell.
CSV_COLUMNS = tuple(AuditEventSerializer.Meta.fields)


def csv_rows(events) -> list[dict]:
    rows = AuditEventSerializer(events, many=True).data
    return [
        {**row, "detail": orjson.dumps(row["detail"], option=orjson.OPT_SORT_KEYS).decode()}
        for row in rows
    ]


EXAMPLE = OpenApiExample(
    "A coordinator opened a client's record",
    value={
        "id": "3f0c2a8e-4b1d-4f6a-9e2c-7d5b1a3c9e01",
        "at": "2026-11-25T15:04:05Z",
        "actor": 7,
        "actor_username": "coordinator.austin",
        "action": "view",
        "object_type": "client",
        "object_id": "5b2e7c1a-9d3f-4e8b-a6c4-1f2e3d4c5b6a",
        "client": "5b2e7c1a-9d3f-4e8b-a6c4-1f2e3d4c5b6a",
        "detail": {"path": "/api/v1/clients/5b2e7c1a-9d3f-4e8b-a6c4-1f2e3d4c5b6a/"},
        "address": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    },
    response_only=True,
)


class AuditEventListView(GenericAPIView):
    queryset = AuditEvent.objects.none()  # the schema's; every read goes through services
    serializer_class = AuditEventSerializer
    renderer_classes = [JSONRenderer, CSVRenderer]
    csv_columns = CSV_COLUMNS

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Not an organisation admin: no such endpoint, OPTIONS included.
        if not audit_trail.audit_trail_readable_by(request.user):
            raise NotFound()

    def perform_content_negotiation(self, request, force=False):
        # OPTIONS describes the endpoint in JSON, whatever format was asked for.
        if request.method == "OPTIONS":
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        tags=["audit"],
        operation_id="audit_list",
        summary="The audit trail: who read or changed which client's record (organisation admins)",
        description=(
            "Every audited read and write, newest first, paginated: who (`actor`), what "
            "(`action`, `object_type`, `object_id`, the `client` whose record it is), when "
            "(`at`) and from where (`address`, `user_agent`). Every filter given must match; "
            "`from` is inclusive and `to` exclusive. `?format=csv` (or `Accept: text/csv`) "
            f"answers the matching rows as CSV, at most the newest {CSV_MAX_ROWS:,}."
        ),
        parameters=[
            AuditQuery,
            OpenApiParameter(
                "format",
                str,
                enum=["json", "csv"],
                description=f"csv: the matching rows (at most {CSV_MAX_ROWS:,}), as CSV.",
            ),
        ],
        responses={200: AuditEventSerializer(many=True), **problem_responses(400, 404)},
        examples=[EXAMPLE],
    )
    def get(self, request):
        query = AuditQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = audit_trail.audit_events(reader=request.user, **query.validated_data)
        if request.accepted_renderer.format == "csv":
            return Response(csv_rows(rows[:CSV_MAX_ROWS]))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)
