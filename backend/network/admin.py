from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from backend.network.models import LevelOfCare, Program, Site


@admin.register(LevelOfCare)
class LevelOfCareAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "position", "intensity", "asam_reference", "capacity_unit"]
    ordering = ["position"]

    def has_delete_permission(self, request, obj=None):
        return False  # codes are a contract with other systems


class ProgramInline(admin.TabularInline):
    model = Program
    extra = 0
    fields = ["level", "name", "capacity", "is_active"]


@admin.register(Site)
class SiteAdmin(GuardedModelAdmin):
    """Site roles are granted on the "Object permissions" page of each site."""

    list_display = ["name", "code", "time_zone", "city", "region"]
    search_fields = ["name", "code", "city"]
    inlines = [ProgramInline]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["__str__", "site", "level", "capacity", "is_active"]
    list_filter = ["site", "level", "is_active"]
    list_select_related = ["site", "level"]
