from django.contrib import admin

from backend.accounts.admin_access import OrganisationAdminOnly
from backend.work.models import WorkItem


@admin.register(WorkItem)
class WorkItemAdmin(OrganisationAdminOnly, admin.ModelAdmin):
    """Read-only view of the durable work; `manage.py work_status` sums it up."""

    list_display = ["kind", "key", "status", "due_at", "attempts", "claimed_until", "finished_at"]
    list_filter = ["status", "kind"]
    search_fields = ["key"]
    date_hierarchy = "due_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
