from django.contrib import admin

from backend.accounts.admin_access import OrganisationAdminOnly
from backend.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(OrganisationAdminOnly, admin.ModelAdmin):
    list_display = ["recipient", "kind", "title", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "title"]
    list_select_related = ["recipient"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
