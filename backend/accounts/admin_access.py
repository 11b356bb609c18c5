"""Who may open the back office's clinical and operational pages, and the audit
of what they show."""

from django.contrib.admin.utils import unquote

from backend.audit.models import AuditAction
from services.access import access_scope
from services.audit import audit_reads


class OrganisationAdminOnly:
    """A ModelAdmin mixin: only organisation admins see these pages at all.

    Django's model permissions are organisation-wide, while care teams see
    only their sites' records; rather than a second, per-site admin, the
    back office of episodes, placements, transfers, hand-offs, notifications,
    audit events and work is for organisation admins, and care teams use the API.
    """

    def has_module_permission(self, request):
        return access_scope(request.user).is_org_admin

    def has_view_permission(self, request, obj=None):
        return access_scope(request.user).is_org_admin


class AuditedReads:
    """A ModelAdmin mixin: every clinical record the back office shows is audited as a
    read, as the API audits it. Opening a record writes one `view` row; a list page
    writes a `list` row per record on the page (one insert).

    `audit_object_type` names the record in the audit trail; `audit_client` is the
    lookup from the record to its client's id.
    """

    audit_object_type = ""
    audit_client = "client_id"

    def _audit(self, request, pks, action: AuditAction) -> None:
        if not pks:
            return
        records = self.model._default_manager.filter(pk__in=pks).values_list(
            "pk", self.audit_client
        )
        audit_reads(
            actor=request.user,
            object_type=self.audit_object_type,
            records=list(records),
            action=action,
            detail={"path": request.path, "via": "admin"},
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            record = self.get_object(request, unquote(object_id))
            if record is not None:
                self._audit(request, [record.pk], AuditAction.VIEW)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if request.method == "GET" and response.status_code == 200 and changelist is not None:
            shown = [record.pk for record in changelist.result_list]
            self._audit(request, shown, AuditAction.LIST)
        return response
