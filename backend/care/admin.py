"""The back office. Clinical state changes only through services/, so the
admin shows episodes, placements and transfers read-only; clients' contact
details may be corrected here."""

from django.contrib import admin

from backend.accounts.admin_access import AuditedReads, OrganisationAdminOnly
from backend.care.models import Client, Episode, Placement, Transfer, TransferEvent
from services import access, clients
from services.errors import DomainError


class ReadOnlyAdmin(AuditedReads, OrganisationAdminOnly, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Client)
class ClientAdmin(AuditedReads, admin.ModelAdmin):
    """Corrections of identifiers and contact details, through the same
    services (and the same audit rows) as the API."""

    audit_object_type = "client"
    audit_client = "pk"

    list_display = ["last_name", "first_name", "mrn", "date_of_birth", "registered_site"]
    search_fields = ["mrn", "last_name", "first_name"]
    list_filter = ["registered_site"]
    list_select_related = ["registered_site"]
    readonly_fields = ["id", "created_at", "updated_at"]

    def get_queryset(self, request):
        # The back office follows the same visibility rule as the API.
        return access.clients_visible_to(request.user).select_related("registered_site")

    def has_change_permission(self, request, obj=None):
        # Corrections in the back office are for organisation admins; care teams use the API.
        return access.access_scope(request.user).is_org_admin

    def has_add_permission(self, request):
        return access.access_scope(request.user).is_org_admin

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)

        class CheckedForm(base):
            """Runs the service's rules at validation, so a bad change is a form error."""

            def clean(self):
                cleaned = super().clean()
                if obj is not None:
                    changes = {
                        name: cleaned[name]
                        for name in self.changed_data
                        if name in clients.EDITABLE_FIELDS and name in cleaned
                    }
                    try:
                        clients.client_changes_check(client=obj, changes=changes)
                    except DomainError as exc:
                        self.add_error(exc.field, exc.message)
                return cleaned

        return CheckedForm

    def get_readonly_fields(self, request, obj=None):
        # The registering site is set once, at registration.
        return [*self.readonly_fields, "registered_site"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            changes = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in clients.EDITABLE_FIELDS
            }
            clients.client_update(actor=request.user, client=obj, changes=changes)
        else:
            data = {name: form.cleaned_data[name] for name in clients.EDITABLE_FIELDS}
            created = clients.client_create(
                actor=request.user, registered_site=form.cleaned_data["registered_site"], **data
            )
            obj.pk = created.pk


class PlacementInline(admin.TabularInline):
    model = Placement
    extra = 0
    fields = ["program", "started_at", "ended_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Episode)
class EpisodeAdmin(ReadOnlyAdmin):
    audit_object_type = "episode"
    list_display = ["client", "admitted_at", "discharged_at", "discharge_type", "referral_source"]
    list_filter = ["discharge_type", "referral_source"]
    search_fields = ["client__mrn", "client__last_name"]
    list_select_related = ["client"]
    inlines = [PlacementInline]


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    audit_object_type = "placement"
    list_display = ["client", "program", "started_at", "ended_at"]
    list_filter = ["program__site", "program__level"]
    search_fields = ["client__mrn", "client__last_name"]
    list_select_related = ["client", "program__site", "program__level"]


class TransferEventInline(admin.TabularInline):
    model = TransferEvent
    extra = 0
    fields = ["at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    audit_object_type = "transfer"
    list_display = ["client", "from_program", "to_program", "status", "requested_at"]
    list_filter = ["status", "to_program__site"]
    search_fields = ["client__mrn", "client__last_name"]
    list_select_related = ["client", "from_program__site", "to_program__site"]
    inlines = [TransferEventInline]
