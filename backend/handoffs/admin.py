from django.contrib import admin

from backend.accounts.admin_access import AuditedReads, OrganisationAdminOnly
from backend.handoffs.models import ChecklistTemplate, ChecklistTemplateItem, Handoff, HandoffItem


class ChecklistTemplateItemInline(admin.TabularInline):
    model = ChecklistTemplateItem
    extra = 1
    fields = ["position", "label", "mandatory"]


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    """Checklists are data: a template applies to moves from `from level` to
    `to level` (blank: any), and every matching active template adds its items."""

    list_display = ["name", "from_level", "to_level", "is_active"]
    list_filter = ["is_active", "from_level", "to_level"]
    inlines = [ChecklistTemplateItemInline]


class HandoffItemInline(admin.TabularInline):
    model = HandoffItem
    extra = 0
    fields = ["position", "label", "mandatory", "completed_at", "completed_by", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Handoff)
class HandoffAdmin(AuditedReads, OrganisationAdminOnly, admin.ModelAdmin):
    """Read-only: hand-offs change through the API's services."""

    audit_object_type = "handoff"
    audit_client = "transfer__client_id"

    list_display = ["transfer", "receiving_site", "status", "escalation_level", "created_at"]
    list_filter = ["status", "receiving_site", "escalation_level"]
    list_select_related = ["transfer__client", "transfer__to_program", "receiving_site"]
    inlines = [HandoffItemInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
