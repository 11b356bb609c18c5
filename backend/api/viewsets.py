"""The one choke point between HTTP and the records: every view narrows its
queryset to what the caller may see before anything else happens."""

from rest_framework import mixins, viewsets
from rest_framework.response import Response

from backend.audit.models import AuditAction
from services.audit import audit_reads


class VisibleModelViewSet(viewsets.GenericViewSet):
    """Subclasses define `visible_queryset(user)`; DRF's get_object() and
    list() then work only on that, so an invisible object is a 404 and is
    never listed.

    `audit_object_type` (with `audit_client_id`) makes every list page and
    every retrieve write audit rows: one bulk insert per response.
    """

    audit_object_type: str | None = None

    def visible_queryset(self, user):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_queryset(self):
        return self.visible_queryset(self.request.user)

    @staticmethod
    def audit_client_id(obj):
        return obj.client_id

    def audit(self, objects, action: AuditAction = AuditAction.VIEW, **detail) -> None:
        if self.audit_object_type is None:
            return
        audit_reads(
            actor=self.request.user,
            object_type=self.audit_object_type,
            action=action,
            records=[(obj.pk, self.audit_client_id(obj)) for obj in objects],
            detail={"path": self.request.path, **detail},
        )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            self.audit(page, AuditAction.LIST)
        return page


# GET of one record: the record in `serializer_class`, and its `view` audit row.
# (A comment, not a docstring: drf-spectacular would show a class docstring as the
# description of every operation of a viewset that has none of its own.)
class AuditedRetrieveMixin(mixins.RetrieveModelMixin):
    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        self.audit([record])
        return Response(self.get_serializer(record).data)
