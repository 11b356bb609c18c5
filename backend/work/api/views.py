"""Operations: what the workers have to do, and whether the platform is healthy."""

from django.db import connection
from django.http import JsonResponse
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import problem_responses
from services.access import access_scope
from services.work import work_status

KindCounts = inline_serializer(
    "WorkKindCounts",
    {
        "pending": serializers.IntegerField(),
        "overdue": serializers.IntegerField(
            help_text="Pending and due for longer than the sweep's grace (2 minutes)."
        ),
        "failed": serializers.IntegerField(),
        "done": serializers.IntegerField(),
        "cancelled": serializers.IntegerField(),
        "oldest_pending_due_at": serializers.DateTimeField(allow_null=True),
    },
)

WorkStatusSerializer = inline_serializer(
    "WorkStatus",
    {
        "at": serializers.DateTimeField(),
        "kinds": serializers.DictField(child=KindCounts),
        "oldest_pending": inline_serializer(
            "OldestPendingWork",
            {
                "id": serializers.UUIDField(),
                "kind": serializers.CharField(),
                "key": serializers.CharField(),
                "due_at": serializers.DateTimeField(),
                "attempts": serializers.IntegerField(),
                "last_error": serializers.CharField(),
                "created_at": serializers.DateTimeField(),
            },
            allow_null=True,
        ),
    },
)


class WorkStatusView(APIView):
    @extend_schema(
        summary="Durable work per kind: pending, overdue, failed, done (organisation admins)",
        responses={200: WorkStatusSerializer, **problem_responses(404)},
        examples=[
            OpenApiExample(
                "A healthy system",
                value={
                    "at": "2026-11-25T15:00:00Z",
                    "kinds": {
                        "handoff.escalate": {
                            "pending": 12,
                            "overdue": 0,
                            "failed": 0,
                            "done": 40,
                            "cancelled": 310,
                            "oldest_pending_due_at": "2026-11-25T17:10:00Z",
                        }
                    },
                    "oldest_pending": None,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request):
        # Not an organisation admin: the endpoint does not exist for you.
        if not access_scope(request.user).is_org_admin:
            raise NotFound()
        return Response(work_status())


def health(request):
    """200 when the database and the broker answer, 503 otherwise (no auth: for probes)."""
    from celery import current_app

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if current_app.conf.task_always_eager:
        checks["broker"] = "none (tasks run in-process)"
    else:
        try:
            with current_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" or v.startswith("none") for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )
