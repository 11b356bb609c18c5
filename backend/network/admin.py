from django import forms
from django.contrib import admin
from django.utils import timezone
from guardian.admin import GuardedModelAdmin

from backend.network.models import LevelOfCare, Program, Site


@admin.register(LevelOfCare)
class LevelOfCareAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "position", "intensity", "asam_reference", "capacity_unit"]
    ordering = ["position"]

    def has_delete_permission(self, request, obj=None):
        return False  # codes are a contract with other systems


class ProgramForm(forms.ModelForm):
    """A new program opens today unless the operator says otherwise, so that the
    daily census does not give it days from before it existed."""

    class Meta:
        model = Program
        fields = [
            "site",
            "level",
            "name",
            "capacity",
            "opened_on",
            "is_active",
            "handoff_ack_minutes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding and "opened_on" in self.fields:
            self.fields["opened_on"].initial = timezone.localdate()


class ProgramInline(admin.TabularInline):
    model = Program
    form = ProgramForm
    extra = 0
    fields = ["level", "name", "capacity", "opened_on", "is_active"]


@admin.register(Site)
class SiteAdmin(GuardedModelAdmin):
    """Site roles are granted on the "Object permissions" page of each site."""

    list_display = ["name", "code", "time_zone", "city", "region"]
    search_fields = ["name", "code", "city"]
    inlines = [ProgramInline]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    form = ProgramForm
    list_display = ["__str__", "site", "level", "capacity", "opened_on", "is_active"]
    list_filter = ["site", "level", "is_active"]
    list_select_related = ["site", "level"]
