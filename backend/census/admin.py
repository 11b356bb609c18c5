from django.contrib import admin

from backend.accounts.admin_access import OrganisationAdminOnly
from backend.census.models import CensusSnapshot


@admin.register(CensusSnapshot)
class CensusSnapshotAdmin(OrganisationAdminOnly, admin.ModelAdmin):
    list_display = ("day", "program", "occupied", "reserved", "capacity", "recorded_at", "stale")
    list_filter = ("stale", "program__site", "program__level")
    date_hierarchy = "day"
    list_select_related = ("program", "program__site")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
