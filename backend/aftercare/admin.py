"""The back office of aftercare, for organisation admins.

Protocols and their milestones are data, edited here (a change applies to
follow-ups scheduled afterwards). Alumni team memberships are edited here.
Plans, follow-ups and referrals are clinical records: shown read-only, except
a follow-up's assignee, which is changed through the same service as the API.
Their pages are audited as the API's reads are (AuditedReads): a `view` row
for a record opened, a `list` row for each record on a list page.
"""

from django.contrib import admin

from backend.accounts.admin_access import AuditedReads, OrganisationAdminOnly
from backend.aftercare.models import (
    AftercarePlan,
    AlumniTeamMembership,
    ContactAttempt,
    FollowUp,
    FollowUpMilestone,
    FollowUpProtocol,
    Referral,
)
from services import access
from services.aftercare import follow_ups
from services.errors import DomainError


class OrganisationAdminEdits(OrganisationAdminOnly):
    """Only organisation admins open these pages, and only they change them,
    whatever Django model permissions a user holds."""

    def _is_org_admin(self, request) -> bool:
        return access.access_scope(request.user).is_org_admin

    def has_add_permission(self, request, *args):
        return self._is_org_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_org_admin(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_org_admin(request)


class ReadOnly(OrganisationAdminOnly):
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FollowUpMilestoneInline(OrganisationAdminEdits, admin.TabularInline):
    model = FollowUpMilestone
    extra = 1
    fields = ["position", "code", "name", "offset", "offset_unit", "window_days"]


@admin.register(FollowUpProtocol)
class FollowUpProtocolAdmin(OrganisationAdminEdits, admin.ModelAdmin):
    """A protocol applies to clients leaving its program, else its level, else
    it is the default (neither set). Hours are elapsed time from the step-down
    or discharge; days are calendar days at the responsible site; the window is
    the number of days after the due day the follow-up may still be done."""

    list_display = ["name", "program", "level", "is_active"]
    list_filter = ["is_active", "level"]
    inlines = [FollowUpMilestoneInline]


@admin.register(AlumniTeamMembership)
class AlumniTeamMembershipAdmin(OrganisationAdminEdits, admin.ModelAdmin):
    """Which alumni coordinators take which site's follow-ups; a site without
    members shares its follow-ups among all alumni coordinators. A site's
    leads hear of its follow-ups that need escalating (the organisation
    admins do when it has none)."""

    list_display = ["site", "user", "is_lead", "created_at"]
    list_filter = ["site", "is_lead"]
    list_select_related = ["site", "user"]
    search_fields = ["user__username", "user__last_name"]


class ContactAttemptInline(admin.TabularInline):
    model = ContactAttempt
    extra = 0
    fields = ["at", "channel", "result", "by", "notes"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FollowUp)
class FollowUpAdmin(AuditedReads, OrganisationAdminOnly, admin.ModelAdmin):
    """Read-only but for the assignee, which goes through follow_up_reassign."""

    audit_object_type = "follow_up"
    list_display = ["client", "milestone", "site", "due_on", "window_ends_on", "status", "assignee"]
    list_filter = ["status", "milestone", "site"]
    list_select_related = ["client", "site", "assignee"]
    search_fields = ["client__mrn", "client__last_name"]
    date_hierarchy = "due_on"
    fields = [
        "client",
        "episode",
        "plan",
        "protocol",
        "milestone",
        "milestone_name",
        "from_program",
        "site",
        "anchor_at",
        "due_on",
        "window_ends_on",
        "assignee",
        "status",
        "completed_at",
        "completed_by",
        "reached",
        "self_reported_status",
        "engaged_meetings",
        "engaged_therapy",
        "engaged_medication",
        "needs_housing",
        "needs_employment",
        "needs_readmission",
        "notes",
        "ended_at",
        "ended_reason",
        "nudges_sent",
    ]
    readonly_fields = [name for name in fields if name != "assignee"]
    inlines = [ContactAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return access.access_scope(request.user).is_org_admin

    @admin.display(description="nudges sent to the client")
    def nudges_sent(self, obj):
        nudges = obj.nudges.order_by("sent_at") if obj.pk else []
        return ", ".join(f"{n.channel} {n.sent_at:%Y-%m-%d %H:%M} UTC" for n in nudges) or "none"

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)

        class CheckedForm(base):
            """The service's rules at validation, so a refused change is a form error."""

            def clean(self):
                cleaned = super().clean()
                if obj is not None and "assignee" in self.changed_data:
                    try:
                        follow_ups.follow_up_reassign_check(
                            actor=request.user, follow_up=obj, assignee=cleaned.get("assignee")
                        )
                    except DomainError as exc:
                        self.add_error("assignee", exc.message)
                return cleaned

        return CheckedForm

    def save_model(self, request, obj, form, change):
        if change and "assignee" in form.changed_data:
            follow_ups.follow_up_reassign(
                actor=request.user, follow_up=obj, assignee=form.cleaned_data["assignee"]
            )


@admin.register(AftercarePlan)
class AftercarePlanAdmin(AuditedReads, ReadOnly, admin.ModelAdmin):
    """Care teams write plans through the API, under its access rules."""

    audit_object_type = "aftercare_plan"  # audit_client: its own client_id (its episode's client)
    list_display = ["client", "episode", "consent_to_contact", "updated_at"]
    list_filter = ["consent_to_contact"]
    list_select_related = ["client", "episode__client"]
    search_fields = ["client__mrn", "client__last_name"]


@admin.register(Referral)
class ReferralAdmin(AuditedReads, ReadOnly, admin.ModelAdmin):
    audit_object_type = "referral"
    list_display = ["client", "to_program", "status", "created_at", "closed_at"]
    list_filter = ["status", "to_program__site"]
    list_select_related = ["client", "to_program"]
    search_fields = ["client__mrn", "client__last_name"]
