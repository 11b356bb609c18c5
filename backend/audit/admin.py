from django.contrib import admin

from backend.accounts.admin_access import OrganisationAdminOnly
from backend.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(OrganisationAdminOnly, admin.ModelAdmin):
    """Append-only: readable by staff with the view permission, never edited here."""

    list_display = ["at", "actor", "action", "object_type", "object_id", "client_id", "address"]
    list_filter = ["action", "object_type"]
    search_fields = ["client_id", "object_id", "actor__username"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
