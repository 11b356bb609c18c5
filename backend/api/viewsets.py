"""The one choke point between HTTP and the records: every view narrows its
queryset to what the caller may see before anything else happens."""

from rest_framework import mixins, viewsets
from rest_framework.response import Response

from backend.audit.models import AuditAction
from services.audit import audit_reads


def concrete_fields(model) -> list[str]:
    """The names of a model's own columns: with the related columns a serializer
    reads, what `only()` keeps when it joins other tables."""
    return [field.name for field in model._meta.concrete_fields]


class VisibleModelViewSet(viewsets.GenericViewSet):
    """Subclasses define `visible_queryset(user)`; DRF's get_object() and
    list() then work only on that, so an invisible object is a 404 and is
    never listed.

    `with_relations(queryset)` adds what the serializer reads beyond the rows
    (select_related, prefetch_related, only). A list page is read in two steps:
    the page's ids from the visible, filtered and ordered queryset, without those
    joins, then the rows of those ids with them. The filters and the ordering are
    planned and run on the narrow query; the wide one only looks rows up by key.

    `audit_object_type` (with `audit_client_id`) makes every list page and
    every retrieve write audit rows: one insert per response.
    """

    audit_object_type: str | None = None

    def visible_queryset(self, user):  # pragma: no cover - abstract
        raise NotImplementedError

    def with_relations(self, queryset):
        return queryset

    def get_queryset(self):
        queryset = self.visible_queryset(self.request.user)
        # A list joins its relations to its page only (paginate_queryset).
        return queryset if self.action == "list" else self.with_relations(queryset)

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
        ids = super().paginate_queryset(queryset.values_list("pk", flat=True))
        if ids is None:
            return None
        by_id = {row.pk: row for row in self.page_rows(queryset, ids)}
        # In the page's order; a row gone between the two reads (deleted meanwhile) is left out.
        page = [by_id[pk] for pk in ids if pk in by_id]
        self.audit(page, AuditAction.LIST)
        return page

    def page_rows(self, queryset, ids):
        """The rows of a page's ids, with what the serializer reads. A view whose
        serializer reads the visible queryset's annotations keeps that queryset."""
        return self.with_relations(queryset.model._default_manager.filter(pk__in=ids))


# GET of one record: the record in `serializer_class`, and its `view` audit row.
# (A comment, not a docstring: drf-spectacular would show a class docstring as the
# description of every operation of a viewset that has none of its own.)
class AuditedRetrieveMixin(mixins.RetrieveModelMixin):
    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        self.audit([record])
        return Response(self.get_serializer(record).data)
